package httpapi

import (
	"net/http"

	"pakn/internal/access"
	"pakn/internal/guard"
)

type agencyView struct {
	Code   string `json:"code"`
	Parent string `json:"parent,omitempty"`
	Kind   string `json:"kind"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

func (s *Server) listAgencies(w http.ResponseWriter, r *http.Request) {
	if err := s.guard.Authorize(r.Context(), s.meta(r), authnOf(r.Context()).Principal, access.AgencyRead, guard.Target{Type: "agency"}); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, err := s.agencies(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := []agencyView{}
	for _, a := range list {
		out = append(out, agencyView{Code: a.Code, Parent: a.ParentCode, Kind: string(a.Kind), NameVI: a.NameVI, NameEN: a.NameEN})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": out})
}
