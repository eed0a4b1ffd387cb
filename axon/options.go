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
	if name := s.Stray(applies...); name != "" {
		return fmt.Errorf("%w: %s", ErrConfig, Stray(name, component, applies))
	}
	return nil
}

// Stray returns the first option given that is not among applies, or ""
// if every one applies.
func (s *OptionSet) Stray(applies ...string) string {
	for _, name := range s.given {
		if !slices.Contains(applies, name) {
			return name
		}
	}
	return ""
}

// Stray says, for an error message, that option name does not apply to
// component, which takes applies.
func Stray(name, component string, applies []string) string {
	return fmt.Sprintf("option %s does not apply to %s (it takes %s)", name, component, strings.Join(applies, ", "))
}
