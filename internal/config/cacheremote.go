package config

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// CacheRemoteRegistry is the CacheRemote value that puts the remote step
// cache in the registry artifacts go to; "embedded" is an alias.
const CacheRemoteRegistry = "registry"

// CacheRemoteInRegistry reports whether v names the registry artifacts go
// to rather than a repository of its own.
func CacheRemoteInRegistry(v string) bool { return v == CacheRemoteRegistry || v == "embedded" }

// CheckCacheRemote validates a cache-remote value: "", "registry",
// "embedded" or a repository "host[:port]/path" without tag or digest. The
// host must be explicit so a typo never sends the cache to Docker Hub.
func CheckCacheRemote(v string) error {
	if v == "" || CacheRemoteInRegistry(v) {
		return nil
	}
	host, path, ok := strings.Cut(v, "/")
	if !ok || path == "" || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return fmt.Errorf("%q is not registry, embedded or an OCI repository host[:port]/path (e.g. ghcr.io/acme/slipway-cache)", v)
	}
	if _, err := name.NewRepository(v, name.StrictValidation); err != nil {
		return fmt.Errorf("%q is not an OCI repository host[:port]/path: %w", v, err)
	}
	return nil
}
