// Package supplychain signs and verifies artifacts the way cosign does:
// ECDSA P-256 keys in cosign's encrypted key format, Sigstore bundles for
// blobs, signatures and attestations attached to OCI images in both cosign's
// tag layout and as OCI 1.1 referrers, and SLSA v1 provenance statements.
//
// Nothing here talks to Fulcio, Rekor or a timestamp authority: trust comes
// from long-lived keys that the user holds.
package supplychain
