package audit

import (
	"encoding/json"
	"strings"

	"pakn/internal/access"
)

// EventOf builds the audit event of an action of p.
func EventOf(m Meta, p access.Principal, action, objType, objID string, outcome Outcome, details []byte) *Event {
	return &Event{
		Actor: ActorOf(p), Role: RoleOf(p), Action: action, ObjectType: objType, ObjectID: objID,
		Outcome: outcome, RequestID: m.RequestID, ClientHash: m.ClientHash, Details: details,
	}
}

// ActorOf is how p appears as an audit actor.
func ActorOf(p access.Principal) string {
	switch p.Kind {
	case access.Staff:
		return "account:" + p.ID
	case access.Token:
		return "token:" + p.ID
	case access.Operator:
		return "operator:" + p.Name
	}
	return "anonymous"
}

// RoleOf is the roles p acted in, for the audit log.
func RoleOf(p access.Principal) string {
	switch p.Kind {
	case access.Staff:
		rs := make([]string, len(p.Roles))
		for i, r := range p.Roles {
			rs[i] = string(r)
		}
		return strings.Join(rs, "+")
	case access.Token:
		return "integration"
	case access.Operator:
		return "operator"
	}
	return "anonymous"
}

// Details encodes an event's details (a JSON object).
func Details(v map[string]any) []byte {
	b, _ := json.Marshal(v)
	return b
}
