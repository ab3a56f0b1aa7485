package register

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/digitorus/timestamp"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
	"pakn/internal/tsa"
)

// TimeStamp answers an RFC 3161 time-stamp request (DER) with pakn's
// authority, under the policy it serves others (tsa.Service), and records
// the time-stamp in the audit log before answering (the hash algorithm
// and imprint, the token's serial number and time, the client as a keyed
// hash): if the event cannot be written, the answer is 503 and no token is
// given. A refused request is answered too (a rejection, as RFC 3161
// wants) and recorded as a failure.
func (s *Service) TimeStamp(ctx context.Context, m audit.Meta, p access.Principal, req []byte) ([]byte, error) {
	if s.tsa == nil {
		return nil, apperr.New(apperr.NotFound, msg.NotFound)
	}
	resp, err := s.tsa.Respond(req)
	var refused *tsa.RequestError
	outcome, det := audit.Success, map[string]any{"size": len(req)}
	switch {
	case errors.As(err, &refused):
		outcome, det["reason"] = audit.Failure, refused.Reason
	case err != nil:
		return nil, apperr.Wrap(err, apperr.Unavailable, "time-stamp", msg.TimeStampUnavailable)
	default:
		ts, perr := timestamp.ParseResponse(resp)
		if perr != nil {
			return nil, apperr.Wrap(perr, apperr.Internal, "time-stamp", msg.TimeStampUnavailable)
		}
		det["hash"], det["imprint"] = ts.HashAlgorithm.String(), hex.EncodeToString(ts.HashedMessage)
		det["serial"], det["time"] = ts.SerialNumber.Text(16), ts.Time.UTC()
	}
	if err := s.audit.Record(ctx, audit.EventOf(m, p, "tsa.stamp", "time-stamp", "", outcome, audit.Details(det))); err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "audit time-stamp", msg.TimeStampUnavailable)
	}
	return resp, nil
}
