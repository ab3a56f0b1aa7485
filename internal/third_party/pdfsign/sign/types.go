package sign

import (
	"crypto"
	"crypto/x509"
	"io"
	"time"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/revocation"
	"github.com/mattetti/filebuffer"
)

type CatalogData struct {
	ObjectId   uint32
	RootString string
}

type TSA struct {
	URL      string
	Username string
	Password string
	// Stamp, when set, answers a DER time-stamp request (RFC 3161) with a
	// DER time-stamp response instead of an HTTP POST to URL (pakn patch:
	// an in-process authority, or a client with a timeout; see PATCHES.md).
	Stamp func(request []byte) ([]byte, error)
}

// enabled reports whether a time-stamp is to be requested.
func (t TSA) enabled() bool { return t.URL != "" || t.Stamp != nil }

// DSS is validation data for a document security store (ISO 32000-2,
// 12.8.4.3; PAdES B-LT): DER certificates and CRLs, written as streams of
// a /DSS dictionary in the catalog of the new revision, added to the
// entries of the DSS the document already has (pakn patch).
type DSS struct {
	Certs [][]byte
	CRLs  [][]byte
}

type RevocationFunction func(cert, issuer *x509.Certificate, i *revocation.InfoArchival) error

type SignData struct {
	Signature          SignDataSignature
	Signer             crypto.Signer
	DigestAlgorithm    crypto.Hash
	Certificate        *x509.Certificate
	CertificateChains  [][]*x509.Certificate
	TSA                TSA
	RevocationData     revocation.InfoArchival
	RevocationFunction RevocationFunction
	Appearance         Appearance

	// pakn patches (see PATCHES.md):
	// SubFilter replaces /adbe.pkcs7.detached when set (ETSI.CAdES.detached
	// for PAdES baseline signatures).
	SubFilter string
	// OmitSigningTime leaves the signingTime attribute out of the CMS
	// (PAdES baseline: the time is in /M).
	OmitSigningTime bool
	// DSS, when set, is added to the document's security store in the
	// same revision (used with document time-stamps: PAdES B-LTA).
	DSS *DSS

	objectId uint32
}

// Appearance represents the appearance of the signature
type Appearance struct {
	Visible bool

	Page        uint32
	LowerLeftX  float64
	LowerLeftY  float64
	UpperRightX float64
	UpperRightY float64

	Image            []byte // Image data to use as signature appearance
	ImageAsWatermark bool   // If true, the text will be drawn over the image
}

type VisualSignData struct {
	pageObjectId uint32
	objectId     uint32
}

type InfoData struct {
	ObjectId uint32
}

//go:generate stringer -type=CertType
type CertType uint

const (
	CertificationSignature CertType = iota + 1
	ApprovalSignature
	UsageRightsSignature
	TimeStampSignature
)

//go:generate stringer -type=DocMDPPerm
type DocMDPPerm uint

const (
	DoNotAllowAnyChangesPerms DocMDPPerm = iota + 1
	AllowFillingExistingFormFieldsAndSignaturesPerms
	AllowFillingExistingFormFieldsAndSignaturesAndCRUDAnnotationsPerms
)

type SignDataSignature struct {
	CertType   CertType
	DocMDPPerm DocMDPPerm
	Info       SignDataSignatureInfo
}

type SignDataSignatureInfo struct {
	Name        string
	Location    string
	Reason      string
	ContactInfo string
	Date        time.Time
}

type SignContext struct {
	InputFile              io.ReadSeeker
	OutputFile             io.Writer
	OutputBuffer           *filebuffer.Buffer
	SignData               SignData
	CatalogData            CatalogData
	VisualSignData         VisualSignData
	InfoData               InfoData
	PDFReader              *pdf.Reader
	NewXrefStart           int64
	ByteRangeValues        []int64
	SignatureMaxLength     uint32
	SignatureMaxLengthBase uint32

	existingSignatures []SignData
	dssID              uint32 // pakn patch: the new /DSS dictionary, when one was written
	lastXrefID         uint32
	newXrefEntries     []xrefEntry
	updatedXrefEntries []xrefEntry
}
