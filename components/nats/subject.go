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
	return token(SubjectPrefix, backplaneName)
}

// StreamPrefix starts the name of every JetStream stream that StreamName
// makes.
const StreamPrefix = "KAMAELIA_BACKPLANE_"

// StreamName returns the name of the JetStream stream that keeps the
// messages of the backplane called name: StreamPrefix followed by name
// written as Subject writes it, so that no two backplanes share a stream
// and the name holds none of the characters stream names cannot.
func StreamName(backplaneName string) string {
	return token(StreamPrefix, backplaneName)
}

// ConsumerName returns name as a JetStream consumer name: written as
// Subject writes a backplane's name, so that any name (with dots, spaces
// or slashes) is a valid consumer name and different names give
// different consumers.
func ConsumerName(name string) string { return token("", name) }

// token returns prefix followed by name as one subject token, written as
// Subject documents.
func token(prefix, name string) string {
	if name == "" {
		return prefix + "%"
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(prefix) + len(name))
	b.WriteString(prefix)
	for i := 0; i < len(name); i++ {
		c := name[i]
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
