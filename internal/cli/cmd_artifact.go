package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/slipway-ci/slipway/internal/app"
	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/change"
	"github.com/slipway-ci/slipway/internal/release"
	"github.com/slipway-ci/slipway/internal/store"
)

func newArtifactCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Publish, list, verify, promote and clean up artifacts",
		Long: `Artifacts are immutable OCI images or artifacts named by digest, tagged with their
version (vX.Y.Z, or vX.Y.Z-rc.N_<sha> between releases) and sha-<commit>. They live in
the embedded registry of the state dir, or in the registry set by registry.external
(SLIPWAY_REGISTRY). Records name them without the host: repo@sha256:...`,
	}
	cmd.AddCommand(newArtifactPushCmd(g), newArtifactLsCmd(g), newArtifactInspectCmd(g), newArtifactVerifyCmd(g),
		newArtifactPromoteCmd(g), newArtifactGCCmd(g))
	return cmd
}

func newArtifactPushCmd(g *globals) *cobra.Command {
	var o struct {
		dir, image string
		port       int
		sbom, sign bool
	}
	cmd := &cobra.Command{
		Use:   "push <repo> [file...]",
		Short: "Build an artifact from files (or an image from --image) at this commit and push it",
		Args:  cobra.MinimumNArgs(1),
		RunE: g.withApp(func(ctx context.Context, a *app.App, args []string) error {
			chg, err := change.Detect(ctx, change.Options{Dir: o.dir})
			if err != nil {
				return err
			}
			req := release.PublishRequest{Repo: args[0], Dir: absDir(o.dir), Change: chg, Files: args[1:], SBOM: o.sbom, Sign: o.sign, Step: "cli"}
			if o.image != "" {
				req.Image = &release.ImageSpec{Binary: o.image, Port: o.port}
			}
			art, err := a.Release.Publish(ctx, req)
			if err != nil {
				return failedError(err)
			}
			return printArtifacts(g, []*store.Artifact{art})
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&o.dir, "dir", "C", ".", "directory the files are relative to (inside the git checkout)")
	f.StringVar(&o.image, "image", "", "build an OCI image around this static binary instead of an artifact of files")
	f.IntVar(&o.port, "port", 0, "port the image exposes")
	f.BoolVar(&o.sbom, "sbom", false, "attach CycloneDX and SPDX SBOMs")
	f.BoolVar(&o.sign, "sign", false, "sign the artifact with the state dir's signing key")
	return cmd
}

func newArtifactLsCmd(g *globals) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "ls [repo]",
		Short: "List published artifacts, newest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: g.withApp(func(ctx context.Context, a *app.App, args []string) error {
			f := store.ArtifactFilter{Limit: limit}
			if len(args) == 1 {
				f.Repo = args[0]
			}
			arts, err := a.Store.Artifacts().List(ctx, f)
			if err != nil {
				return err
			}
			return printArtifacts(g, arts)
		}),
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 50, "show at most this many")
	return cmd
}

func printArtifacts(g *globals, arts []*store.Artifact) error {
	if g.json() {
		if arts == nil {
			arts = []*store.Artifact{}
		}
		return json.NewEncoder(g.stdout).Encode(arts)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARTIFACT\tVERSION\tKIND\tSIZE\tRUN\tCREATED")
	for _, a := range arts {
		fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%s\t%d\t%s\n", a.Repo, a.Digest, a.Version, a.Kind, humanize.IBytes(uint64(a.Size)), a.RunID,
			a.Created.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func newArtifactInspectCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect <repo@digest|repo:tag>",
		Short: "Show an artifact's record, tags and environments",
		Args:  cobra.ExactArgs(1),
		RunE: g.withApp(func(ctx context.Context, a *app.App, args []string) error {
			ref, err := a.Release.ParseRef(ctx, args[0])
			if err != nil {
				return usageError(err)
			}
			info, err := a.Release.Inspect(ctx, ref)
			if err != nil {
				return failedError(err)
			}
			if g.json() {
				return json.NewEncoder(g.stdout).Encode(info)
			}
			fmt.Fprintf(g.stdout, "artifact:  %s@%s\nversion:   %s\ncommit:    %s\nkind:      %s\nsize:      %s\nrun:       %d\ntags:      %s\n",
				info.Artifact.Repo, info.Artifact.Digest, info.Artifact.Version, info.Artifact.Commit, info.Artifact.Kind,
				humanize.IBytes(uint64(info.Artifact.Size)), info.Artifact.RunID, strings.Join(info.Artifact.Tags, ", "))
			fmt.Fprintf(g.stdout, "environments: %s\nreferrers:\n", strings.Join(info.Environments, ", "))
			for _, r := range info.Referrers {
				fmt.Fprintf(g.stdout, "  %s  %s\n", r.Digest, r.ArtifactType)
			}
			return nil
		}),
	}
}

func newArtifactVerifyCmd(g *globals) *cobra.Command {
	var o struct {
		env, dir string
		deep     bool
	}
	cmd := &cobra.Command{
		Use:   "verify <repo@digest|repo:tag>",
		Short: "Check an artifact against the trust policy; exit 1 with the reasons when refused",
		Long: `Verify checks signatures over the manifest (whose digest covers every layer), the
provenance and SBOM attestations the policy requires, and that a tag still points where
Slipway recorded it. --deep also re-hashes every blob. The policy is the configured one,
tightened by the repository's .slipway/trust.yaml and, with --env, by that environment.`,
		Args: cobra.ExactArgs(1),
		RunE: g.withApp(func(ctx context.Context, a *app.App, args []string) error {
			vo := release.VerifyOptions{Env: o.env, Deep: o.deep}
			if proj, err := a.LoadProject(ctx, o.dir, ""); err == nil {
				vo.Policy = &proj.Trust
				if e := proj.Spec.Environment(o.env); e != nil {
					vo.Extra = e.Require
				}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			rep, err := a.Release.Verify(ctx, args[0], vo)
			if err != nil {
				return failedError(err)
			}
			if err := printReport(g, rep); err != nil {
				return err
			}
			if !rep.OK {
				return failedError(fmt.Errorf("%s is not trusted: %s", rep.Ref, rep.Reasons()))
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.env, "env", "", "apply this environment's policy")
	f.StringVarP(&o.dir, "dir", "C", ".", "the repository whose .slipway.yaml and .slipway/trust.yaml apply")
	f.BoolVar(&o.deep, "deep", false, "re-hash every blob too")
	return cmd
}

func printReport(g *globals, rep *release.Report) error {
	if g.json() {
		return json.NewEncoder(g.stdout).Encode(rep)
	}
	fmt.Fprintf(g.stdout, "%s (%s)\n", rep.Ref, rep.Digest)
	for _, c := range rep.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(g.stdout, "  %s %-10s %s\n", mark, c.Name, c.Detail)
	}
	return nil
}

func newArtifactPromoteCmd(g *globals) *cobra.Command {
	var o struct{ to, dir, reason string }
	cmd := &cobra.Command{
		Use:   "promote <repo@digest> --to <env>",
		Short: "Verify an artifact and point an environment's tag at its digest",
		Long: `Promote verifies the artifact with the environment's trust policy, checks the
environment's requires: (the digest must have been promoted to the previous environment),
records the promotion and moves the environment tag with one manifest PUT. Nothing is
copied or rebuilt. Environments come from the environments: block of .slipway.yaml.
An environment with target: local is deployed instead, as 'slipway deploy' does.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.to == "" {
				return usageError(errors.New("--to: name the environment"))
			}
			a, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			proj, err := a.LoadProject(ctx, o.dir, "")
			if err != nil {
				return usageError(err)
			}
			if env := proj.Spec.Environment(o.to); env != nil && env.Deploy != nil {
				// Slipway deploys this environment: promotion is a deployment,
				// and its success moves the tag.
				a.Close()
				return g.promoteByDeploy(ctx, o.dir, o.to, args[0], o.reason)
			}
			res, err := a.Release.Promote(ctx, release.PromoteRequest{Ref: args[0], Env: o.to, Spec: proj.Spec, Policy: &proj.Trust,
				Actor: actor(g), Reason: o.reason})
			if res != nil && res.Report != nil && (err != nil || !g.json()) {
				printReport(g, res.Report)
			}
			if err != nil {
				return failedError(err)
			}
			if g.json() {
				return json.NewEncoder(g.stdout).Encode(res)
			}
			verb := "promoted"
			if res.Unchanged {
				verb = "already in"
			}
			fmt.Fprintf(g.stdout, "%s %s@%s → %s in %s\n", verb, res.Promotion.Repo, res.Promotion.Digest, o.to, res.Took.Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "environment to promote to")
	f.StringVarP(&o.dir, "dir", "C", ".", "the repository whose .slipway.yaml declares the environments")
	f.StringVar(&o.reason, "reason", "", "why, for the record")
	return cmd
}

func actor(g *globals) string {
	if u := g.getenv("SLIPWAY_ACTOR"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

func newArtifactGCCmd(g *globals) *cobra.Command {
	var o struct {
		repo        string
		keepLast    int
		keepYounger time.Duration
		apply       bool
	}
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete old artifacts by the retention policy (dry run unless --apply)",
		Long: `GC keeps, per repository, the newest --keep-last artifacts and those younger than
--keep-younger (defaults: artifacts: in config.yaml). A digest that is or was in any
environment within the retention window is never deleted. Without --apply it only
prints the plan; with it, every deletion is logged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer a.Close()
			p := artifact.GCPolicy{KeepLast: a.Config.Artifacts.KeepLast, KeepYounger: a.Config.Artifacts.KeepYounger}
			if cmd.Flags().Changed("keep-last") {
				p.KeepLast = o.keepLast
			}
			if cmd.Flags().Changed("keep-younger") {
				p.KeepYounger = o.keepYounger
			}
			items, err := a.Release.GC(ctx, o.repo, p, a.Config.Artifacts.Window, o.apply, func(f string, args ...any) {
				fmt.Fprintf(g.stderr, f+"\n", args...)
			})
			if err != nil {
				return failedError(err)
			}
			return printGC(g, items, o.apply)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.repo, "repo", "", "only this repository (default: all)")
	f.IntVar(&o.keepLast, "keep-last", 0, "keep the newest N per repository")
	f.DurationVar(&o.keepYounger, "keep-younger", 0, "keep artifacts younger than this")
	f.BoolVar(&o.apply, "apply", false, "delete (default: dry run)")
	return cmd
}

func printGC(g *globals, items []artifact.GCItem, applied bool) error {
	if g.json() {
		if items == nil {
			items = []artifact.GCItem{}
		}
		return json.NewEncoder(g.stdout).Encode(items)
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	n := 0
	for _, it := range items {
		act := "keep"
		if it.Delete {
			act, n = "delete", n+1
			if applied {
				act = "deleted"
			}
		}
		fmt.Fprintf(tw, "%s\t%s@%s\t%s\n", act, it.Artifact.Repo, it.Artifact.Digest, it.Reason)
	}
	tw.Flush()
	if !applied && n > 0 {
		fmt.Fprintf(g.stdout, "dry run: %d artifact(s) would be deleted; run with --apply\n", n)
	}
	return nil
}

func absDir(d string) string {
	if abs, err := filepath.Abs(d); err == nil {
		return abs
	}
	return d
}
