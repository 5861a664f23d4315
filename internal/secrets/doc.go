// Package secrets resolves the secrets a run needs from pluggable providers
// and keeps their values out of everything a run prints.
//
// A run asks Resolve for the names its steps declare; a Chain of Providers
// (environment, secrets file, later Vault or SOPS) answers. The resolved
// values build one Masker per run, whose Writers sit between every step's
// output and any log, terminal or report, and replace each value, in every
// common encoding, with Mask.
package secrets
