package main

import (
	"github.com/hashicorp/vault/builtin/credential/approle"
	"github.com/hashicorp/vault/builtin/logical/pki"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// builtins are the only plugins this Vault has: the ones pakn uses.
var builtins = map[string]struct {
	typ     consts.PluginType
	factory logical.Factory
}{
	"transit": {consts.PluginTypeSecrets, transit.Factory},
	"pki":     {consts.PluginTypeSecrets, pki.Factory},
	"approle": {consts.PluginTypeCredential, approle.Factory},
}

// registry is the plugin catalog's view of the builtins
// (vault/plugincatalog.BuiltinRegistry).
type registry struct{}

func (registry) Contains(name string, t consts.PluginType) bool {
	b, ok := builtins[name]
	return ok && b.typ == t
}

func (registry) Get(name string, t consts.PluginType) (func() (interface{}, error), bool) {
	b, ok := builtins[name]
	if !ok || b.typ != t {
		return nil, false
	}
	return func() (interface{}, error) { return b.factory, nil }, true
}

func (registry) Keys(t consts.PluginType) []string {
	var keys []string
	for name, b := range builtins {
		if b.typ == t {
			keys = append(keys, name)
		}
	}
	return keys
}

func (registry) DeprecationStatus(name string, t consts.PluginType) (consts.DeprecationStatus, bool) {
	if (registry{}).Contains(name, t) {
		return consts.Supported, true
	}
	return consts.Unknown, false
}

func (registry) IsBuiltinEntPlugin(string, consts.PluginType) bool { return false }

// backends returns the factories of the builtins of type t, for CoreConfig.
func backends(t consts.PluginType) map[string]logical.Factory {
	m := map[string]logical.Factory{}
	for name, b := range builtins {
		if b.typ == t {
			m[name] = b.factory
		}
	}
	return m
}
