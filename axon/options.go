package axon

import (
	"fmt"
	"slices"
	"strings"
)

// OptionSet notes which options a component's constructor was given, by
// name, so that the constructor can refuse those that do not apply to
// it. Packages embed one in their option configuration and have each
// option call Mark; the rule is the same in every package: an option
// that does not apply is refused, with an error that names it, never
// silently ignored.
type OptionSet struct {
	given []string
}

// Mark notes that the option called name was given.
func (s *OptionSet) Mark(name string) {
	if !slices.Contains(s.given, name) {
		s.given = append(s.given, name)
	}
}

// Refuse returns an error wrapping ErrConfig that names the first option
// given that is not among applies and the component it was given to, or
// nil if every option given applies.
func (s *OptionSet) Refuse(component string, applies ...string) error {
	if msg := s.Unapplied(component, applies...); msg != "" {
		return fmt.Errorf("%w: %s", ErrConfig, msg)
	}
	return nil
}

// Unapplied is Refuse's message alone, for a package that words its own
// configuration errors: "option X does not apply to C (it takes ...)",
// or "" if every option given applies.
func (s *OptionSet) Unapplied(component string, applies ...string) string {
	for _, name := range s.given {
		if !slices.Contains(applies, name) {
			return fmt.Sprintf("option %s does not apply to %s (it takes %s)", name, component, strings.Join(applies, ", "))
		}
	}
	return ""
}
