package repodata

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Repomd is repomd.xml: the index of a repository's metadata files.
type Repomd struct {
	Revision string
	Data     []Data
}

// Data is one <data> entry of repomd.xml.
type Data struct {
	Type string
	// Checksum is of the file as stored, OpenChecksum of its uncompressed
	// content; both are "type" and hex value.
	ChecksumType, Checksum         string
	OpenChecksumType, OpenChecksum string
	// Location is the file's path relative to the repository root.
	Location string
	// Timestamp, Size and OpenSize are -1 when repomd.xml leaves them out.
	Timestamp int64
	Size      int64
	OpenSize  int64
}

// Find returns the entry of the given type, or nil.
func (m *Repomd) Find(typ string) *Data {
	for i := range m.Data {
		if m.Data[i].Type == typ {
			return &m.Data[i]
		}
	}
	return nil
}

// Encode writes m as repomd.xml.
func (m *Repomd) Encode(out io.Writer) error {
	w := xmlWriter{bufio.NewWriter(out)}
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<repomd")
	w.attr("xmlns", nsRepo)
	w.attr("xmlns:rpm", nsRPM)
	w.WriteString(">\n")
	w.element("  ", "revision", m.Revision)
	for _, d := range m.Data {
		w.WriteString("  <data")
		w.attr("type", d.Type)
		w.WriteString(">\n    <checksum")
		w.attr("type", d.ChecksumType)
		w.WriteByte('>')
		w.text(d.Checksum)
		w.WriteString("</checksum>\n")
		if d.OpenChecksum != "" {
			w.WriteString("    <open-checksum")
			w.attr("type", d.OpenChecksumType)
			w.WriteByte('>')
			w.text(d.OpenChecksum)
			w.WriteString("</open-checksum>\n")
		}
		w.WriteString("    <location")
		w.attr("href", d.Location)
		w.WriteString("/>\n")
		// -1 is a value the decoded repomd.xml left out: leave it out.
		for _, n := range []struct {
			name string
			v    int64
			ok   bool
		}{{"timestamp", d.Timestamp, true}, {"size", d.Size, true}, {"open-size", d.OpenSize, d.OpenChecksum != ""}} {
			if n.ok && n.v >= 0 {
				w.element("    ", n.name, strconv.FormatInt(n.v, 10))
			}
		}
		w.WriteString("  </data>\n")
	}
	w.WriteString("</repomd>\n")
	return w.Flush()
}

type xmlRepomd struct {
	XMLName  xml.Name `xml:"http://linux.duke.edu/metadata/repo repomd"`
	Revision string   `xml:"revision"`
	Data     []struct {
		Type     string `xml:"type,attr"`
		Checksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"checksum"`
		OpenChecksum struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"open-checksum"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
		Timestamp string `xml:"timestamp"`
		Size      string `xml:"size"`
		OpenSize  string `xml:"open-size"`
	} `xml:"data"`
}

// DecodeRepomd reads repomd.xml. Every data entry must name its type,
// location and checksum; numbers must be numbers.
func DecodeRepomd(r io.Reader) (*Repomd, error) {
	var x xmlRepomd
	d := xml.NewDecoder(r)
	if err := d.Decode(&x); err != nil {
		return nil, fmt.Errorf("repomd.xml: %w", err)
	}
	m := &Repomd{Revision: x.Revision}
	for i, xd := range x.Data {
		d := Data{
			Type:         xd.Type,
			ChecksumType: xd.Checksum.Type, Checksum: xd.Checksum.Value,
			OpenChecksumType: xd.OpenChecksum.Type, OpenChecksum: xd.OpenChecksum.Value,
			Location: xd.Location.Href,
		}
		if d.Type == "" || d.Location == "" || d.ChecksumType == "" || d.Checksum == "" {
			return nil, fmt.Errorf("repomd.xml: data entry %d (%q) lacks type, location or checksum", i+1, d.Type)
		}
		for _, n := range []struct {
			name, s string
			dst     *int64
		}{{"timestamp", xd.Timestamp, &d.Timestamp}, {"size", xd.Size, &d.Size}, {"open-size", xd.OpenSize, &d.OpenSize}} {
			if n.s == "" {
				*n.dst = -1
				continue
			}
			// Old createrepo wrote fractional timestamps (1355315696.84).
			v, err := strconv.ParseFloat(strings.TrimSpace(n.s), 64)
			if err != nil || v < 0 || v != v {
				return nil, fmt.Errorf("repomd.xml: data %q: %s %q is not a number", d.Type, n.name, n.s)
			}
			*n.dst = int64(v)
		}
		m.Data = append(m.Data, d)
	}
	return m, nil
}
