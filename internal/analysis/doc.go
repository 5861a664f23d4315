// Package analysis measures a deployment's metrics and decides, Argo
// Rollouts style, whether it may progress: a Template holds Metrics; each
// Metric names one Provider (builtin router data, Prometheus, a webhook),
// conditions in CEL over `result`, and the counting rules (interval, count,
// initialDelay, failureLimit, inconclusiveLimit, consecutiveErrorLimit,
// consecutiveSuccessLimit, dryRun, noData). Run measures one metric until a
// limit decides it; RunAll runs a template's metrics concurrently and
// combines them. A Metric can also compare the canary with the stable
// version over the same window (Baseline: ratio or Mann-Whitney U).
//
// Phases mean, for the deployment controller: Successful → progress,
// Failed or Error → roll back, Inconclusive → pause for a human.
//
// Defaults (Argo's unless said otherwise):
//   - failureLimit 0 (the first failed measurement fails the metric);
//     -1 disables it.
//   - inconclusiveLimit 0; consecutiveErrorLimit 4 (the fifth error in a row
//     is Error); consecutiveSuccessLimit 0 (off).
//   - count: 1 without interval; unlimited with interval (the metric runs
//     until a limit decides it or the caller stops it).
//   - after an Error measurement the next one comes after
//     min(interval, 10s) (Argo always waits 10s; capping at the interval
//     keeps fast analyses fast).
//   - noData: inconclusive (Argo has no such policy: an empty Prometheus
//     vector makes `result[0]` an Error).
//   - builtin metrics measure the window since the previous measurement,
//     the first one since the run started: without an initialDelay their
//     first measurement comes after one interval, not at once (an instant
//     window is empty).
//   - a metric with neither successCondition nor failureCondition is
//     Successful unless the measurement errs (Argo's evaluator).
package analysis
