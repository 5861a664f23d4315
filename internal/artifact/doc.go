// Package artifact builds immutable, reproducible OCI artifacts and images,
// pushes them to an OCI registry under `vX.Y.Z` and `sha-<commit>` tags,
// promotes them by digest from environment to environment without
// rebuilding or copying bytes, and applies retention.
package artifact
