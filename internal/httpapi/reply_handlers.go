package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"pakn/internal/reply"
)

type draftRequest struct {
	reply.Content
	Supersedes string `json:"supersedes,omitempty"`
}

func (s *Server) draftReply(w http.ResponseWriter, r *http.Request) {
	var in draftRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out, err := s.replies.DraftReply(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), in.Content, in.Supersedes)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listReplies(w http.ResponseWriter, r *http.Request) {
	out, err := s.replies.Replies(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"replies": out})
}

func (s *Server) getReply(w http.ResponseWriter, r *http.Request) {
	out, err := s.replies.Reply(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) reviewReply(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Note string `json:"note"`
		}
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		out, err := s.replies.ReviewReply(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), approve, in.Note)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// signReply signs an approved reply; signing a signed reply answers the
// same document again.
func (s *Server) signReply(w http.ResponseWriter, r *http.Request) {
	out, err := s.replies.SignReply(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// writePDF sends a signed document's exact bytes to download as name.
func writePDF(w http.ResponseWriter, name string, data []byte, cache string) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Cache-Control", cache)
	sum := sha256.Sum256(data) // of the version served: a reply's personal or public one, a receipt
	w.Header().Set("X-Content-SHA256", hex.EncodeToString(sum[:]))
	_, _ = w.Write(data)
}

func (s *Server) replyPDF(w http.ResponseWriter, r *http.Request) {
	rp, data, err := s.replies.ReplyPDF(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writePDF(w, "tra-loi-"+rp.ID+".pdf", data, "no-store")
}

// petitionerReplyPDF gives the petitioner the current signed reply; the code
// and secret travel in the POST body, never in a URL.
func (s *Server) petitionerReplyPDF(w http.ResponseWriter, r *http.Request) {
	var in petitionerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	rp, data, err := s.replies.PetitionerReplyPDF(r.Context(), s.meta(r), in.TrackingCode, in.LookupSecret)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writePDF(w, "tra-loi-"+rp.ID+".pdf", data, "no-store")
}

// petitionerReceiptPDF gives the petitioner, with code and secret, the
// petition's signed receipt.
func (s *Server) petitionerReceiptPDF(w http.ResponseWriter, r *http.Request) {
	var in petitionerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	rc, err := s.replies.ReceiptPDF(r.Context(), s.meta(r), in.TrackingCode, in.LookupSecret)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writePDF(w, "bien-nhan-"+rc.ID+".pdf", rc.PDF, "no-store")
}

// publishedReplyPDF serves a reply from the public register.
func (s *Server) publishedReplyPDF(w http.ResponseWriter, r *http.Request) {
	rp, data, err := s.replies.PublishedReply(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writePDF(w, "tra-loi-"+rp.ID+".pdf", data, "public, max-age=300")
}
