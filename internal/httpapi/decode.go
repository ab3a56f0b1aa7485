package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"pakn/internal/apperr"
	"pakn/internal/msg"
)

// decodeJSON reads one JSON object from the body into v: the content type
// must be application/json, unknown fields are refused, and the body limit
// applies.
func decodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return apperr.New(apperr.UnsupportedMedia, msg.BodyMustBeJSON)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || apperr.As(err) != nil { // too large, or refused by a bound while reading
			return err
		}
		return apperr.Wrap(err, apperr.Invalid, "decode json", msg.MalformedJSON, jsonProblem(err))
	}
	if err := dec.Decode(&struct{}{}); err != io.EOF {
		return apperr.New(apperr.Invalid, msg.OneJSONObject)
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error"
	case errors.As(err, &typ):
		return "field " + typ.Field + " has the wrong type"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated body"
	}
	return "unknown field or invalid value"
}
