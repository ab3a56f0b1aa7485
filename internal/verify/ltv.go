package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// What may follow a signed revision: pakn issues replies as PAdES B-LTA,
// the signature's revision followed by incremental updates that each add
// validation data (a document security store: certificates and CRLs) and
// a document time-stamp over the whole file. Those updates are the only
// bytes accepted after the last approval signature, and they are read
// strictly, object by object, in the shape pakn's signer writes them:
// anything else there (a page, a font, an action, an object redefined) is
// a change after signing.

// SubFilterDocTimeStamp is a document time-stamp's /SubFilter.
const SubFilterDocTimeStamp = "ETSI.RFC3161"

// Bounds of the validation data read from the updates.
const (
	maxDSSStreams = 32      // certificates and CRLs together, over all updates
	maxDSSStream  = 1 << 20 // one certificate or CRL, DER
)

// validationData is what the updates after a signature embed.
type validationData struct {
	certs []*x509.Certificate
	crls  []*x509.RevocationList
	known *proofs // what was read before; nil: read every time
}

// ltvObject is one indirect object of an update.
type ltvObject struct {
	num    int64
	dict   pdfDict
	stream []byte // a stream's content; nil for a dictionary
}

// checkUpdates reads doc[from:], the updates after the last approval
// signature's revision, up to the end of the file, and returns the
// validation data they embed; any object, key or structure that a
// validation-data update does not have is an error.
func checkUpdates(ctx context.Context, doc []byte, from int64, known *proofs) (*validationData, error) {
	vd := &validationData{known: known}
	budget := maxTokens
	catalog, err := lastCatalog(ctx, doc[:from], &budget)
	if err != nil {
		return nil, err
	}
	prevSize, err := lastTrailerSize(ctx, doc[:from], &budget)
	if err != nil {
		return nil, err
	}
	pos := int(from)
	for n := 0; pos < len(doc); n++ {
		if n == MaxSignatures {
			return nil, errors.New("too many updates after the signature")
		}
		objs, trailer, end, err := readUpdate(ctx, doc, pos, &budget)
		if err != nil {
			return nil, err
		}
		if catalog, err = checkUpdate(objs, trailer, catalog, prevSize, vd); err != nil {
			return nil, err
		}
		size, _ := trailer.entries["Size"].(pdfInt)
		prevSize, pos = int64(size), end
	}
	return vd, nil
}

// readUpdate reads one update starting at pos: indirect objects, then a
// cross-reference table, a trailer, startxref and %%EOF; it returns the
// objects, the trailer and where the update ends.
func readUpdate(ctx context.Context, doc []byte, pos int, budget *int) ([]ltvObject, pdfDict, int, error) {
	l := &lexer{ctx: ctx, data: doc, pos: pos, budget: budget}
	var objs []ltvObject
	for {
		l.skip()
		if bytes.HasPrefix(doc[l.pos:], []byte("xref")) {
			break
		}
		o, err := readObject(l)
		if err != nil {
			return nil, pdfDict{}, 0, err
		}
		if objs = append(objs, o); len(objs) > maxDSSStreams+8 {
			return nil, pdfDict{}, 0, errors.New("too many objects in an update")
		}
	}
	l.pos += len("xref")
	// The table: a subsection header, then 20-byte entries, until "trailer".
	t := bytes.Index(doc[l.pos:min(len(doc), l.pos+64*(len(objs)+4))], []byte("trailer"))
	if t < 0 {
		return nil, pdfDict{}, 0, errors.New("an update without its trailer")
	}
	for _, f := range bytes.Fields(doc[l.pos : l.pos+t]) {
		if _, err := strconv.ParseUint(string(f), 10, 32); err != nil && string(f) != "n" && string(f) != "f" {
			return nil, pdfDict{}, 0, errors.New("an unreadable cross-reference table")
		}
	}
	l.pos += t + len("trailer")
	v, err := l.value(0)
	trailer, ok := v.(pdfDict)
	if err != nil || !ok {
		return nil, pdfDict{}, 0, errors.New("an unreadable trailer")
	}
	l.skip()
	if !bytes.HasPrefix(doc[l.pos:], []byte("startxref")) {
		return nil, pdfDict{}, 0, errors.New("no startxref after the trailer")
	}
	l.pos += len("startxref")
	if _, err := l.value(0); err != nil {
		return nil, pdfDict{}, 0, errors.New("no offset after startxref")
	}
	// Not l.skip(): it would step over %%EOF as a comment.
	rest := doc[l.pos:min(len(doc), l.pos+32)]
	eof := bytes.Index(rest, []byte("%%EOF"))
	if eof < 0 || len(bytes.TrimSpace(rest[:eof])) != 0 {
		return nil, pdfDict{}, 0, errors.New("an update without %%EOF")
	}
	end := l.pos + eof + len("%%EOF")
	for end < len(doc) && (doc[end] == '\r' || doc[end] == '\n') {
		end++
	}
	return objs, trailer, end, nil
}

// readObject reads "N 0 obj <<dict>> [stream ... endstream] endobj".
func readObject(l *lexer) (ltvObject, error) {
	var o ltvObject
	num, err := l.value(0)
	gen, err2 := l.value(0)
	l.skip()
	kw, err3 := l.word()
	n, ok1 := num.(pdfInt)
	g, ok2 := gen.(pdfInt)
	if err != nil || err2 != nil || err3 != nil || !ok1 || !ok2 || g != 0 || n <= 0 || kw != "obj" {
		return o, fmt.Errorf("an update holds something other than objects at byte %d", l.pos)
	}
	o.num = int64(n)
	v, err := l.value(0)
	d, ok := v.(pdfDict)
	if err != nil || !ok {
		return o, fmt.Errorf("object %d of an update is not a dictionary", n)
	}
	o.dict = d
	l.skip()
	if bytes.HasPrefix(l.data[l.pos:], []byte("stream")) {
		length, ok := d.entries["Length"].(pdfInt)
		if !ok || len(d.entries) != 1 || length <= 0 || length > maxDSSStream {
			return o, fmt.Errorf("stream %d of an update is not plain validation data", n)
		}
		l.pos += len("stream")
		if bytes.HasPrefix(l.data[l.pos:], []byte("\r\n")) {
			l.pos += 2
		} else if l.pos < len(l.data) && l.data[l.pos] == '\n' {
			l.pos++
		}
		if int64(len(l.data)-l.pos) < int64(length) {
			return o, errEOF
		}
		o.stream = l.data[l.pos : l.pos+int(length)]
		l.pos += int(length)
		l.skip()
		if !bytes.HasPrefix(l.data[l.pos:], []byte("endstream")) {
			return o, fmt.Errorf("stream %d of an update does not end where its /Length says", n)
		}
		l.pos += len("endstream")
		l.skip()
	}
	l.skip()
	if w, err := l.word(); err != nil || w != "endobj" {
		return o, fmt.Errorf("object %d of an update does not end with endobj", n)
	}
	return o, nil
}

// checkUpdate checks one update's objects and trailer against the catalog
// before it, collects its validation data, and returns its catalog.
func checkUpdate(objs []ltvObject, trailer pdfDict, prev pdfDict, prevSize int64, vd *validationData) (pdfDict, error) {
	byNum := map[int64]ltvObject{}
	for _, o := range objs {
		if o.num < prevSize {
			return pdfDict{}, fmt.Errorf("an update redefines object %d of the signed document", o.num)
		}
		if _, dup := byNum[o.num]; dup {
			return pdfDict{}, fmt.Errorf("an update defines object %d twice", o.num)
		}
		byNum[o.num] = o
	}
	var stamp, widget, dss, catalog *ltvObject
	for i := range objs {
		o := &objs[i]
		if o.stream != nil {
			continue
		}
		var slot **ltvObject
		switch o.dict.entries["Type"] {
		case pdfName("DocTimeStamp"):
			slot = &stamp
		case pdfName("Annot"):
			slot = &widget
		case pdfName("DSS"):
			slot = &dss
		case pdfName("Catalog"):
			slot = &catalog
		default:
			return pdfDict{}, fmt.Errorf("object %d of an update is not validation data or a document time-stamp", o.num)
		}
		if *slot != nil {
			return pdfDict{}, errors.New("an update holds two objects of one kind")
		}
		*slot = o
	}
	if stamp == nil || widget == nil || catalog == nil {
		return pdfDict{}, errors.New("an update after the signature without its document time-stamp")
	}
	if err := checkStampObjects(stamp, widget); err != nil {
		return pdfDict{}, err
	}
	if err := checkCatalog(catalog, prev, widget.num, dss, byNum); err != nil {
		return pdfDict{}, err
	}
	named := map[int64]bool{}
	if dss != nil {
		if err := collectDSS(dss, byNum, vd, named); err != nil {
			return pdfDict{}, err
		}
	}
	for _, o := range objs {
		if o.stream != nil && !named[o.num] {
			return pdfDict{}, fmt.Errorf("stream %d of an update is not in its document security store", o.num)
		}
	}
	if root, ok := trailer.entries["Root"].(pdfRef); !ok || root.num != catalog.num {
		return pdfDict{}, errors.New("an update's trailer does not name its catalog")
	}
	for k := range trailer.entries {
		if !slices.Contains([]string{"Size", "Root", "Prev", "Info", "ID"}, k) {
			return pdfDict{}, fmt.Errorf("an update's trailer has /%s", quote(k))
		}
	}
	return catalog.dict, nil
}

// checkStampObjects checks the document time-stamp's dictionary and its
// invisible widget: the keys pakn's signer writes, nothing else.
func checkStampObjects(stamp, widget *ltvObject) error {
	for k, v := range stamp.dict.entries {
		ok := false
		switch k {
		case "Type", "ByteRange", "Contents", "Prop_Build":
			ok = true
		case "Filter":
			ok = v == pdfName("Adobe.PPKLite")
		case "SubFilter":
			ok = v == pdfName(SubFilterDocTimeStamp)
		}
		if !ok {
			return fmt.Errorf("the document time-stamp's dictionary has /%s", quote(k))
		}
	}
	want := map[string]func(any) bool{
		"Type":    func(v any) bool { return v == pdfName("Annot") },
		"Subtype": func(v any) bool { return v == pdfName("Widget") },
		"FT":      func(v any) bool { return v == pdfName("Sig") },
		"F":       func(v any) bool { return v == pdfInt(132) }, // print, locked
		"Rect": func(v any) bool {
			r, ok := v.(pdfArray)
			return ok && len(r) == 4 && r[0] == pdfInt(0) && r[1] == pdfInt(0) && r[2] == pdfInt(0) && r[3] == pdfInt(0)
		},
		"P": func(v any) bool { _, ok := v.(pdfRef); return ok },
		"T": func(v any) bool { s, ok := v.(pdfStr); return ok && len(s) <= 64 },
		"V": func(v any) bool { r, ok := v.(pdfRef); return ok && r.num == stamp.num },
	}
	if len(widget.dict.entries) != len(want) {
		return errors.New("the document time-stamp's field is not an invisible signature field")
	}
	for k, ok := range want {
		if v, has := widget.dict.entries[k]; !has || !ok(v) {
			return fmt.Errorf("the document time-stamp's field has an unexpected /%s", k)
		}
	}
	return nil
}

// checkCatalog checks that an update's catalog is the one before but for
// /DSS (this update's store), /Version and the form: the fields before,
// then the time-stamp's.
func checkCatalog(catalog *ltvObject, prev pdfDict, widget int64, dss *ltvObject, byNum map[int64]ltvObject) error {
	cur := catalog.dict.entries
	for k, v := range cur {
		switch k {
		case "DSS":
			r, ok := v.(pdfRef)
			if !ok || dss == nil || r.num != dss.num {
				return errors.New("the catalog's /DSS is not the update's store")
			}
		case "AcroForm":
			if err := checkForm(v, prev.entries["AcroForm"], widget); err != nil {
				return err
			}
		case "Version":
			if v != pdfName("1.5") && !sameValue(v, prev.entries[k]) {
				return errors.New("the catalog's /Version changed")
			}
		default:
			if !sameValue(v, prev.entries[k]) {
				return fmt.Errorf("the catalog's /%s changed after the signature", quote(k))
			}
		}
	}
	for k := range prev.entries {
		if _, has := cur[k]; !has && k != "DSS" {
			return fmt.Errorf("the catalog lost /%s after the signature", quote(k))
		}
	}
	if _, has := cur["DSS"]; dss != nil && !has {
		return errors.New("the update's store is not in its catalog")
	}
	return nil
}

// checkForm checks the new /AcroForm: the old fields, then widget; the
// same flags.
func checkForm(v, old any, widget int64) error {
	form, ok := v.(pdfDict)
	of, ok2 := old.(pdfDict)
	if !ok || !ok2 || len(form.entries) != 2 {
		return errors.New("the catalog's form is not the signed document's")
	}
	fields, ok := form.entries["Fields"].(pdfArray)
	oldFields, ok2 := of.entries["Fields"].(pdfArray)
	if !ok || !ok2 || len(fields) != len(oldFields)+1 || !sameValue(fields[:len(oldFields)], oldFields) {
		return errors.New("the form's fields are not the signed document's and the time-stamp's")
	}
	if r, ok := fields[len(fields)-1].(pdfRef); !ok || r.num != widget {
		return errors.New("the form's new field is not the document time-stamp's")
	}
	if !sameValue(form.entries["SigFlags"], of.entries["SigFlags"]) {
		return errors.New("the form's flags changed")
	}
	return nil
}

// collectDSS reads the store's certificates and CRLs: each entry refers to
// a stream of this update (recorded in named) or to an object of an
// earlier one (already read when its update was).
func collectDSS(dss *ltvObject, byNum map[int64]ltvObject, vd *validationData, named map[int64]bool) error {
	for k, v := range dss.dict.entries {
		if k == "Type" {
			continue
		}
		arr, ok := v.(pdfArray)
		if !ok || (k != "Certs" && k != "CRLs" && k != "OCSPs") {
			return fmt.Errorf("the document security store has /%s", quote(k))
		}
		for _, e := range arr {
			r, ok := e.(pdfRef)
			if !ok {
				return errors.New("the document security store holds something other than references")
			}
			o, here := byNum[r.num]
			if !here {
				continue // a stream of an earlier update
			}
			if o.stream == nil || k == "OCSPs" || named[r.num] {
				return errors.New("the document security store names something other than a certificate or a CRL, or one twice")
			}
			named[r.num] = true
			if len(vd.certs)+len(vd.crls) >= maxDSSStreams {
				return errors.New("too much validation data")
			}
			if err := vd.add(k, o.stream); err != nil {
				return err
			}
		}
	}
	return nil
}

func (vd *validationData) add(kind string, der []byte) error {
	if kind == "Certs" {
		c, err := readAs(vd.known, der, x509.ParseCertificate)
		if err != nil {
			return errors.New("the document security store holds an unreadable certificate")
		}
		if err := certAcceptable(c); err != nil {
			return err
		}
		vd.certs = append(vd.certs, c)
		return nil
	}
	crl, err := readAs(vd.known, der, x509.ParseRevocationList)
	if err != nil {
		return errors.New("the document security store holds an unreadable CRL")
	}
	vd.crls = append(vd.crls, crl)
	return nil
}

// sameValue compares two parsed PDF values (hex strings by content).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case pdfDict:
		y, ok := b.(pdfDict)
		if !ok || len(x.entries) != len(y.entries) {
			return false
		}
		for k, v := range x.entries {
			if w, has := y.entries[k]; !has || !sameValue(v, w) {
				return false
			}
		}
		return true
	case pdfArray:
		y, ok := b.(pdfArray)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case pdfStr:
		y, ok := b.(pdfStr)
		return ok && bytes.Equal(x, y)
	case pdfHex:
		y, ok := b.(pdfHex)
		return ok && bytes.Equal(x.data, y.data)
	}
	return a == b
}

// lastCatalog parses the last catalog object of the signed revisions.
func lastCatalog(ctx context.Context, signed []byte, budget *int) (pdfDict, error) {
	i := bytes.LastIndex(signed, []byte("/Type /Catalog"))
	if i < 0 {
		return pdfDict{}, errors.New("the signed document has no catalog")
	}
	o := bytes.LastIndex(signed[:i], []byte("obj"))
	if o < 0 || !objectHeader(signed, o) {
		return pdfDict{}, errors.New("the signed document's catalog is not an object")
	}
	l := &lexer{ctx: ctx, data: signed, pos: o + len("obj"), budget: budget}
	v, err := l.value(0)
	d, ok := v.(pdfDict)
	if err != nil || !ok {
		return pdfDict{}, errors.New("the signed document's catalog is unreadable")
	}
	return d, nil
}

// lastTrailerSize reads /Size of the signed revisions' last trailer.
func lastTrailerSize(ctx context.Context, signed []byte, budget *int) (int64, error) {
	i := bytes.LastIndex(signed, []byte("trailer"))
	if i < 0 {
		return 0, errors.New("the signed document has no trailer")
	}
	l := &lexer{ctx: ctx, data: signed, pos: i + len("trailer"), budget: budget}
	v, err := l.value(0)
	d, ok := v.(pdfDict)
	size, ok2 := d.entries["Size"].(pdfInt)
	if err != nil || !ok || !ok2 || size <= 0 {
		return 0, errors.New("the signed document's trailer has no /Size")
	}
	return int64(size), nil
}

// oidRevocationInfoArchival is Adobe's signed attribute of revocation
// data (adbe-revocationInfoArchival): CRLs at [0], OCSP answers at [1].
var oidRevocationInfoArchival = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}

// revocationArchive reads the CRLs of an adbe-revocationInfoArchival
// attribute's value.
func revocationArchive(value []byte) ([]*x509.RevocationList, error) {
	var ria struct {
		CRL   []asn1.RawValue `asn1:"tag:0,optional,explicit"`
		OCSP  []asn1.RawValue `asn1:"tag:1,optional,explicit"`
		Other asn1.RawValue   `asn1:"tag:2,optional,explicit"`
	}
	if rest, err := asn1.Unmarshal(value, &ria); err != nil || len(rest) != 0 {
		return nil, errors.New("the revocation archive is unreadable")
	}
	if len(ria.CRL) > maxDSSStreams {
		return nil, errors.New("too many CRLs in the revocation archive")
	}
	var out []*x509.RevocationList
	for _, raw := range ria.CRL {
		crl, err := x509.ParseRevocationList(raw.FullBytes)
		if err != nil {
			return nil, errors.New("a CRL of the revocation archive is unreadable")
		}
		out = append(out, crl)
	}
	return out, nil
}

// evidence is what the document holds beyond its approval signatures: the
// document time-stamps after them (already checked), the earliest time
// one of them proves, and the validation data their updates embed.
type evidence struct {
	stamps     []Signature
	poe        *time.Time // the earliest trusted document time-stamp's time
	policy     asn1.ObjectIdentifier
	data       *validationData
	updatesErr error // why the bytes after the last approval signature are not accepted
}

// evidence splits sigs into approval signatures, which come first, and
// the document time-stamps after them, checks the updates and the
// time-stamps, and returns how many approval signatures there are.
func (v *Verifier) evidence(ctx context.Context, doc []byte, sigs []sigDict, now time.Time) (int, *evidence, *failure) {
	n, err := approvals(sigs)
	if err != nil {
		return 0, nil, &failure{TotalFailed, FormatFailure, "signatures", err.Error()}
	}
	ev := &evidence{data: &validationData{}}
	if n == len(sigs) {
		return n, ev, nil
	}
	if br := sigs[n-1].ByteRange; sigs[n-1].Err == nil && len(br) == 4 && br[2] >= 0 && br[3] >= 0 && br[2]+br[3] <= int64(len(doc)) {
		if known, ok := v.cache.documentRead(ctx); ok && known.updates != nil {
			ev.data = known.updates
		} else if vd, err := checkUpdates(ctx, doc, br[2]+br[3], &v.cache); err != nil {
			ev.updatesErr = err
		} else {
			ev.data = vd
			if ctx.Err() == nil {
				v.cache.addDocumentRead(ctx, readDocument{sigs: sigs, updates: vd})
			}
		}
	}
	for i, sd := range sigs[n:] {
		s, ts := v.docTimestamp(ctx, doc, n+i+1, sd, now, ev.data)
		ev.stamps = append(ev.stamps, s)
		if ts != nil && s.Indication == TotalPassed && (ev.poe == nil || ts.Time.Before(*ev.poe)) {
			t := ts.Time.UTC()
			ev.poe, ev.policy = &t, ts.Policy
		}
	}
	return n, ev, nil
}

// approvals counts the approval signatures of sigs (file order), which
// must all come before the document time-stamps, and be at least one.
func approvals(sigs []sigDict) (int, error) {
	n := 0
	for i, sd := range sigs {
		if sd.SubFilter == SubFilterDocTimeStamp {
			continue
		}
		if i != n {
			return 0, errors.New("a signature comes after a document time-stamp")
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("the document has no signature, only document time-stamps")
	}
	return n, nil
}

// docTimestamp checks a document time-stamp: its byte range, its token's
// signature, that its imprint is the hash of the ranges, and that its
// authority chains to the anchors for time-stamping.
func (v *Verifier) docTimestamp(ctx context.Context, doc []byte, idx int, sd sigDict, now time.Time, vd *validationData) (Signature, *timestamp.Timestamp) {
	s := Signature{Index: idx, ByteRange: sd.ByteRange, SubFilter: sd.SubFilter, ValidationTime: now.UTC(), Checks: []Check{}}
	if sd.Err != nil {
		return s.fail(&failure{TotalFailed, FormatFailure, "signature_dictionary", sd.Err.Error()}), nil
	}
	s.pass("signature_dictionary", "readable (a document time-stamp)")
	if f := checkByteRange(&s, sd, int64(len(doc))); f != nil {
		return s.fail(f), nil
	}
	var tok asn1.RawValue
	rest, err := asn1.Unmarshal(sd.Contents, &tok)
	if err != nil || len(bytes.Trim(rest, "\x00")) != 0 || len(tok.FullBytes) > maxTimestampSize || !v.shallowToken(tok.FullBytes) {
		return s.fail(&failure{TotalFailed, FormatFailure, "timestamp", "the document time-stamp's token is unreadable"}), nil
	}
	br := sd.ByteRange
	ts, tsa, f := v.checkToken(ctx, tok.FullBytes, vd.certs, doc[br[0]:br[0]+br[1]], doc[br[2]:br[2]+br[3]])
	if f != nil {
		return s.fail(f), nil
	}
	if ts == nil {
		return s, nil // the time limit: Verify says so
	}
	t := ts.Time.UTC()
	s.TimestampTime, s.ValidationTime, s.Signer = &t, t, describe(tsa)
	s.pass("timestamp", "the document as it stands existed at "+t.Format(time.RFC3339)+" (time-stamped by "+tsa.Subject.CommonName+")")
	s.Indication = TotalPassed
	return s, ts
}

// shallowToken reports whether a token nests at most maxDERDepth levels:
// a token already proven was measured before it was.
func (v *Verifier) shallowToken(token []byte) bool {
	if _, ok := v.cache.provenToken(token); ok {
		return true
	}
	return shallowDER(token, maxDERDepth) == nil
}

// StampedUntil is when the proof a signed document carries of its own
// existence runs out: the end of validity of the certificate of its newest
// time-stamp (the last document time-stamp's authority, else the
// signature time-stamp's). An archive time-stamp must be added before.
// It reads the document without judging it: verify it for that.
func StampedUntil(doc []byte) (time.Time, error) {
	sigs, err := findSignatures(context.Background(), doc)
	if err != nil {
		return time.Time{}, err
	}
	if len(sigs) == 0 || sigs[len(sigs)-1].Err != nil {
		return time.Time{}, errors.New("no readable signature")
	}
	last := sigs[len(sigs)-1]
	token := last.Contents
	if last.SubFilter != SubFilterDocTimeStamp {
		c, err := parseCMS(last.Contents)
		if err != nil || c.timestamp == nil {
			return time.Time{}, errors.New("the document carries no time-stamp")
		}
		token = c.timestamp
	}
	var tok asn1.RawValue
	if _, err := asn1.Unmarshal(token, &tok); err != nil {
		return time.Time{}, errors.New("the time-stamp token is unreadable")
	}
	p7, err := pkcs7.Parse(tok.FullBytes)
	if err != nil {
		return time.Time{}, errors.New("the time-stamp token is unreadable")
	}
	tsa := p7.GetOnlySigner()
	if tsa == nil {
		return time.Time{}, errors.New("the time-stamp token has no single signer")
	}
	return tsa.NotAfter, nil
}
