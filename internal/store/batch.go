package store

import (
	"encoding/binary"
	"math"
	"strconv"
)

// batch is rows as fill wrote them.
type batch struct {
	data []byte
	rows int
	ncol int
	last int64 // the first column of the last row
	// lastStop is the highest value of the stop column in the batch (-1:
	// none, or no stop column).
	lastStop int64
}

// Column types in a batch (SQLite's fundamental types).
const (
	colInteger = 1
	colFloat   = 2
	colText    = 3
	colBlob    = 4
	colNull    = 5
)

// cursor walks a batch's columns without allocating.
type cursor struct {
	data []byte
	off  int
}

func (b batch) cursor() cursor { return cursor{data: b.data} }

// next returns the next column: its type, its bytes (text, blob) and its
// number (integer; a real's bits).
func (c *cursor) next() (typ byte, b []byte, n int64) {
	typ = c.data[c.off]
	c.off++
	switch typ {
	case colInteger, colFloat:
		n = int64(binary.LittleEndian.Uint64(c.data[c.off:]))
		c.off += 8
	case colText, colBlob:
		l := int(binary.LittleEndian.Uint32(c.data[c.off:]))
		b = c.data[c.off+4 : c.off+4+l]
		c.off += 4 + l
	}
	return typ, b, n
}

// text returns the next column as text (integers in decimal into scratch).
func (c *cursor) text(scratch []byte) []byte {
	typ, b, n := c.next()
	switch typ {
	case colInteger:
		return appendInt(scratch[:0], n)
	case colFloat:
		return appendReal(scratch[:0], math.Float64frombits(uint64(n)))[1:]
	}
	return b
}

// int returns the next column as an integer (0 when NULL or not one).
func (c *cursor) int() int64 {
	typ, _, n := c.next()
	if typ != colInteger {
		return 0
	}
	return n
}

// canon appends the next column's canonical value (appendValue).
func (c *cursor) canon(dst []byte) []byte {
	typ, b, n := c.next()
	switch typ {
	case colInteger:
		return appendInt(append(dst, valInteger), n)
	case colFloat:
		return appendReal(dst, math.Float64frombits(uint64(n)))
	case colText:
		return append(append(dst, valText), b...)
	case colBlob:
		return append(append(dst, valBlob), b...)
	}
	return append(dst, valNull)
}

func appendInt(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }
