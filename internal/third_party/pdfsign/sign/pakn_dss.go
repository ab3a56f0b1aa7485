package sign

// pakn patch (see PATCHES.md): the document security store of PAdES B-LT.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/digitorus/pdf"
)

// addDSS writes SignData.DSS's certificates and CRLs as streams and a new
// /DSS dictionary that lists them after the entries of the document's
// current DSS (kept by reference), and remembers its object number for the
// catalog.
func (context *SignContext) addDSS() error {
	old := context.PDFReader.Trailer().Key("Root").Key("DSS")
	certs, err := context.dssStreams(old.Key("Certs"), context.SignData.DSS.Certs)
	if err != nil {
		return err
	}
	crls, err := context.dssStreams(old.Key("CRLs"), context.SignData.DSS.CRLs)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("<<\n /Type /DSS\n /Certs [" + certs + "]\n /CRLs [" + crls + "]\n")
	if ocsps := context.dssRefs(old.Key("OCSPs")); len(ocsps) > 0 {
		b.WriteString(" /OCSPs [" + strings.Join(ocsps, " ") + "]\n")
	}
	b.WriteString(">>\n")
	context.dssID, err = context.addObject(b.Bytes())
	return err
}

// dssStreams writes each of ders as a stream and returns the references
// of old's array (indirect objects only) followed by the new streams'.
func (context *SignContext) dssStreams(old pdf.Value, ders [][]byte) (string, error) {
	refs := context.dssRefs(old)
	for _, der := range ders {
		var s bytes.Buffer
		s.WriteString("<< /Length " + strconv.Itoa(len(der)) + " >>\nstream\n")
		s.Write(der)
		s.WriteString("\nendstream")
		id, err := context.addObject(s.Bytes())
		if err != nil {
			return "", fmt.Errorf("DSS stream: %w", err)
		}
		refs = append(refs, strconv.Itoa(int(id))+" 0 R")
	}
	return strings.Join(refs, " "), nil
}

// dssRefs lists the indirect references of a DSS array.
func (context *SignContext) dssRefs(arr pdf.Value) []string {
	var refs []string
	for i := 0; i < arr.Len(); i++ {
		if p := arr.Index(i).GetPtr(); p.GetID() != 0 {
			refs = append(refs, fmt.Sprintf("%d %d R", p.GetID(), p.GetGen()))
		}
	}
	return refs
}

// size is the number of bytes of certificates and CRLs in d (none when d
// is nil).
func (d *DSS) size() int {
	if d == nil {
		return 0
	}
	n := 0
	for _, b := range d.Certs {
		n += len(b)
	}
	for _, b := range d.CRLs {
		n += len(b)
	}
	return n
}
