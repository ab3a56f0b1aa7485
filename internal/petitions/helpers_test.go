package petitions_test

import "pakn/internal/servicetest"

// The helpers the services' tests share (internal/servicetest).
var (
	newEnv       = servicetest.New
	staff        = servicetest.Staff
	submission   = servicetest.Submission
	draft        = servicetest.Draft
	anon         = servicetest.Anon
	wantCode     = servicetest.WantCode
	replyContent = servicetest.ReplyContent
	roleIDs      = servicetest.RoleIDs
	inputFor     = servicetest.InputFor
)

type env = servicetest.Env
