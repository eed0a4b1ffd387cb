package transfer

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Magic opens every datagram of the protocol.
const Magic = "KMFT"

// Version is the protocol version this package speaks. A datagram of
// another version is refused by Parse.
const Version = 1

// Sizes and limits of the wire format.
const (
	// HeaderLen is the length of the header every packet starts with:
	// magic (4), version (1), type (1), transfer id (8), checksum (4).
	HeaderLen = 4 + 1 + 1 + 8 + 4
	// MaxChunkSize is the largest chunk a DATA packet can carry: what
	// fits in one IPv4 UDP datagram (65507 bytes) after the header and
	// the sequence number.
	MaxChunkSize = 65507 - HeaderLen - 8
	// MaxWindow is the largest window, in chunks, either side may use.
	MaxWindow = 1 << 15
	// MaxText is the longest reason a DONE packet carries.
	MaxText = 1024
	// maxSACK is the longest selective-acknowledgement bitmap, in bytes.
	maxSACK = MaxWindow / 8
)

// Type is the kind of a packet.
type Type uint8

// Packet types. The sender sends START, DATA and END; the receiver
// answers with ACCEPT, ACK and DONE.
const (
	TypeStart  Type = 1 // sender: a transfer begins (size, chunk size, chunk count, window)
	TypeData   Type = 2 // sender: one chunk (sequence number, payload)
	TypeEnd    Type = 3 // sender: every chunk is acknowledged; the file's SHA-256
	TypeAccept Type = 4 // receiver: START taken; the window granted
	TypeAck    Type = 5 // receiver: next chunk expected, and a bitmap of later ones held
	TypeDone   Type = 6 // receiver: the outcome (Status) and a reason
)

func (t Type) String() string {
	switch t {
	case TypeStart:
		return "START"
	case TypeData:
		return "DATA"
	case TypeEnd:
		return "END"
	case TypeAccept:
		return "ACCEPT"
	case TypeAck:
		return "ACK"
	case TypeDone:
		return "DONE"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Status is the outcome a DONE packet reports.
type Status uint8

// Outcomes of a transfer.
const (
	StatusOK       Status = 0 // the file arrived intact and is in place
	StatusMismatch Status = 1 // the SHA-256 of what arrived differs from END's
	StatusRefused  Status = 2 // the receiver is busy with another transfer
	StatusFailed   Status = 3 // the receiver failed (a file error; Text says which)
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusMismatch:
		return "digest mismatch"
	case StatusRefused:
		return "refused"
	case StatusFailed:
		return "failed"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Packet is one datagram of the protocol, decoded. Which fields mean
// something depends on Type; the others are zero.
type Packet struct {
	Type Type
	ID   uint64 // the transfer, chosen at random by the sender

	// START
	Size      uint64 // the file's length in bytes
	ChunkSize uint32 // bytes per chunk (the last may be shorter)
	Chunks    uint64 // how many chunks: Size/ChunkSize rounded up

	// START (asked) and ACCEPT (granted): chunks in flight at once.
	Window uint32

	// DATA
	Seq     uint64 // the chunk's number, from 0
	Payload []byte // the chunk; aliases the datagram Parse was given

	// END
	Digest [32]byte // SHA-256 of the whole file

	// ACK: every chunk before Next has been received, and bit i of SACK
	// (bit i%8 of byte i/8, least significant first) says that chunk
	// Next+1+i has been received too. A chunk at or after Next that is
	// not marked is missing: the ACK doubles as a negative one.
	Next uint64
	SACK []byte

	// DONE
	Status Status
	Text   string // why, when Status is not StatusOK
}

// Body lengths, past the header.
const (
	startLen  = 8 + 4 + 8 + 4
	endLen    = 32
	acceptLen = 4
	ackMinLen = 8 + 2
	doneMin   = 1 + 2
)

// crcOffset is where the checksum sits in the header.
const crcOffset = HeaderLen - 4

// castagnoli is the CRC-32C table (computed in hardware where there is
// support).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum returns the CRC-32C of packet b, leaving out the checksum
// field itself.
func checksum(b []byte) uint32 {
	return crc32.Update(crc32.Checksum(b[:crcOffset], castagnoli), castagnoli, b[HeaderLen:])
}

// seal writes the checksum of packet b into its header.
func seal(b []byte) {
	binary.BigEndian.PutUint32(b[crcOffset:], checksum(b))
}

// Append appends p's encoding to b and returns the result. It encodes
// what it is given; Parse is where packets are checked.
func (p *Packet) Append(b []byte) []byte {
	start := len(b)
	b = p.appendUnsealed(b)
	seal(b[start:])
	return b
}

// appendUnsealed is Append without the checksum (left zero).
func (p *Packet) appendUnsealed(b []byte) []byte {
	b = append(b, Magic...)
	b = append(b, Version, byte(p.Type))
	b = binary.BigEndian.AppendUint64(b, p.ID)
	b = append(b, 0, 0, 0, 0)
	switch p.Type {
	case TypeStart:
		b = binary.BigEndian.AppendUint64(b, p.Size)
		b = binary.BigEndian.AppendUint32(b, p.ChunkSize)
		b = binary.BigEndian.AppendUint64(b, p.Chunks)
		b = binary.BigEndian.AppendUint32(b, p.Window)
	case TypeData:
		b = binary.BigEndian.AppendUint64(b, p.Seq)
		b = append(b, p.Payload...)
	case TypeEnd:
		b = append(b, p.Digest[:]...)
	case TypeAccept:
		b = binary.BigEndian.AppendUint32(b, p.Window)
	case TypeAck:
		b = binary.BigEndian.AppendUint64(b, p.Next)
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.SACK)))
		b = append(b, p.SACK...)
	case TypeDone:
		b = append(b, byte(p.Status))
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.Text)))
		b = append(b, p.Text...)
	}
	return b
}

// Marshal returns p's encoding in a new slice.
func (p *Packet) Marshal() []byte {
	n := HeaderLen + startLen
	switch p.Type {
	case TypeData:
		n = HeaderLen + 8 + len(p.Payload)
	case TypeAck:
		n = HeaderLen + ackMinLen + len(p.SACK)
	case TypeDone:
		n = HeaderLen + doneMin + len(p.Text)
	}
	return p.Append(make([]byte, 0, n))
}

// Parse decodes one datagram. It checks everything it can without
// knowing the transfer: the magic, the version, the checksum (so that a
// damaged datagram is dropped, and sent again, rather than written), the
// type, every length,
// and the values each type allows (a START whose chunk count does not
// match its size and chunk size, a DATA with no payload, a DONE with an
// unknown status, ...). Any failure is an error wrapping ErrMalformed;
// Parse never panics. A DATA packet's Payload aliases b.
func Parse(b []byte) (Packet, error) {
	var p Packet
	if len(b) < HeaderLen {
		return p, malformed("%d bytes, shorter than the %d-byte header", len(b), HeaderLen)
	}
	if string(b[:4]) != Magic {
		return p, malformed("no %q magic", Magic)
	}
	if b[4] != Version {
		return p, malformed("version %d, want %d", b[4], Version)
	}
	if got, want := binary.BigEndian.Uint32(b[crcOffset:]), checksum(b); got != want {
		return p, malformed("checksum %08x, want %08x: damaged in transit", got, want)
	}
	p.Type = Type(b[5])
	p.ID = binary.BigEndian.Uint64(b[6:crcOffset])
	body := b[HeaderLen:]
	exact := func(n int) error {
		if len(body) != n {
			return malformed("%s body of %d bytes, want %d", p.Type, len(body), n)
		}
		return nil
	}
	switch p.Type {
	case TypeStart:
		if err := exact(startLen); err != nil {
			return Packet{}, err
		}
		p.Size = binary.BigEndian.Uint64(body)
		p.ChunkSize = binary.BigEndian.Uint32(body[8:])
		p.Chunks = binary.BigEndian.Uint64(body[12:])
		p.Window = binary.BigEndian.Uint32(body[20:])
		switch {
		case p.ChunkSize == 0 || p.ChunkSize > MaxChunkSize:
			return Packet{}, malformed("START chunk size %d, want 1 to %d", p.ChunkSize, MaxChunkSize)
		case p.Window == 0 || p.Window > MaxWindow:
			return Packet{}, malformed("START window %d, want 1 to %d", p.Window, MaxWindow)
		case p.Size > 1<<62:
			return Packet{}, malformed("START size %d too large", p.Size)
		case p.Chunks != ChunkCount(p.Size, p.ChunkSize):
			return Packet{}, malformed("START says %d chunks, but %d bytes in chunks of %d make %d",
				p.Chunks, p.Size, p.ChunkSize, ChunkCount(p.Size, p.ChunkSize))
		}
	case TypeData:
		if len(body) < 8+1 {
			return Packet{}, malformed("DATA body of %d bytes, want a sequence number and at least 1 byte", len(body))
		}
		if len(body)-8 > MaxChunkSize {
			return Packet{}, malformed("DATA payload of %d bytes, more than %d", len(body)-8, MaxChunkSize)
		}
		p.Seq = binary.BigEndian.Uint64(body)
		p.Payload = body[8:len(body):len(body)]
	case TypeEnd:
		if err := exact(endLen); err != nil {
			return Packet{}, err
		}
		copy(p.Digest[:], body)
	case TypeAccept:
		if err := exact(acceptLen); err != nil {
			return Packet{}, err
		}
		p.Window = binary.BigEndian.Uint32(body)
		if p.Window == 0 || p.Window > MaxWindow {
			return Packet{}, malformed("ACCEPT window %d, want 1 to %d", p.Window, MaxWindow)
		}
	case TypeAck:
		if len(body) < ackMinLen {
			return Packet{}, malformed("ACK body of %d bytes, want at least %d", len(body), ackMinLen)
		}
		p.Next = binary.BigEndian.Uint64(body)
		n := int(binary.BigEndian.Uint16(body[8:]))
		if n > maxSACK {
			return Packet{}, malformed("ACK bitmap of %d bytes, more than %d", n, maxSACK)
		}
		if err := exact(ackMinLen + n); err != nil {
			return Packet{}, err
		}
		if n > 0 {
			p.SACK = body[ackMinLen:]
		}
	case TypeDone:
		if len(body) < doneMin {
			return Packet{}, malformed("DONE body of %d bytes, want at least %d", len(body), doneMin)
		}
		p.Status = Status(body[0])
		if p.Status > StatusFailed {
			return Packet{}, malformed("DONE status %d unknown", body[0])
		}
		n := int(binary.BigEndian.Uint16(body[1:]))
		if n > MaxText {
			return Packet{}, malformed("DONE text of %d bytes, more than %d", n, MaxText)
		}
		if err := exact(doneMin + n); err != nil {
			return Packet{}, err
		}
		p.Text = string(body[doneMin:])
	default:
		return Packet{}, malformed("unknown packet type %d", b[5])
	}
	return p, nil
}

// ChunkCount returns how many chunks of chunkSize bytes a file of size
// bytes makes: size/chunkSize rounded up (0 for an empty file).
func ChunkCount(size uint64, chunkSize uint32) uint64 {
	if chunkSize == 0 {
		return 0
	}
	return size/uint64(chunkSize) + min(size%uint64(chunkSize), 1)
}

// sacked reports whether bit i of the bitmap is set.
func sacked(bitmap []byte, i uint64) bool {
	return i/8 < uint64(len(bitmap)) && bitmap[i/8]&(1<<(i%8)) != 0
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
