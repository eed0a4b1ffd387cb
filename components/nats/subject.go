package nats

import (
	"strings"
)

// SubjectPrefix starts every subject that Subject makes.
const SubjectPrefix = "kamaelia.backplane."

// Subject returns the NATS subject that carries the backplane called name:
// SubjectPrefix followed by name as one subject token. Letters, digits,
// '-' and '_' stand for themselves; every other byte of name (including
// '.', '*', '>', '%', spaces and the bytes of non-ASCII letters) is written
// as '%' and two upper-case hex digits, so that no name can contain a
// token separator or a wildcard, and different names give different
// subjects. The empty name gives SubjectPrefix + "%", which no other name
// gives. For example:
//
//	Subject("chat")        == "kamaelia.backplane.chat"
//	Subject("room.1")      == "kamaelia.backplane.room%2E1"
//	Subject("a b*")        == "kamaelia.backplane.a%20b%2A"
func Subject(backplaneName string) string {
	if backplaneName == "" {
		return SubjectPrefix + "%"
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(SubjectPrefix) + len(backplaneName))
	b.WriteString(SubjectPrefix)
	for i := 0; i < len(backplaneName); i++ {
		c := backplaneName[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
	}
	return b.String()
}

// validSubject reports whether s can be a subject: not empty, no white
// space, no empty token; wildcards only where allowed.
func validSubject(s string, wildcards bool) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return false
		case t == "*" || (t == ">" && i == len(toks)-1):
			if !wildcards {
				return false
			}
		case t == ">":
			return false
		}
	}
	return true
}
