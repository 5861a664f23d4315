// Package deploy runs deployments: the state machine every strategy moves
// through, the strategies (rolling, blue-green, canary) and rollback.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

// ErrIllegal is wrapped when a move is not allowed from the current state.
var ErrIllegal = errors.New("illegal transition")

// moves lists, per state, the states a deployment may move to.
var moves = map[store.DeployState][]store.DeployState{
	store.DeployPending:          {store.DeployAwaitingApproval, store.DeployProgressing, store.DeployRollingBack, store.DeployFailed},
	store.DeployAwaitingApproval: {store.DeployProgressing, store.DeployRollingBack, store.DeployRolledBack},
	store.DeployProgressing:      {store.DeployPaused, store.DeploySucceeded, store.DeployRollingBack, store.DeployProgressing},
	store.DeployPaused:           {store.DeployProgressing, store.DeployRollingBack, store.DeploySucceeded},
	store.DeployRollingBack:      {store.DeployRolledBack, store.DeployFailed, store.DeployRollingBack},
}

// CanMove reports whether a deployment may go from one state to another.
// Progressing → progressing records progress (a step, a weight).
func CanMove(from, to store.DeployState) bool { return slices.Contains(moves[from], to) }

// Move applies edit to d and moves it to state to in one transaction,
// refusing an illegal move and a deployment changed behind our back
// (store.ErrConflict): the store's state is the truth, d is re-read then.
func Move(ctx context.Context, deps store.Deployments, d *store.Deployment, to store.DeployState, now time.Time,
	edit func(*store.Deployment)) error {
	from := d.State
	if !CanMove(from, to) {
		return fmt.Errorf("deployment %d: %s → %s: %w", d.ID, from, to, ErrIllegal)
	}
	next := *d
	next.State, next.Updated = to, now
	if edit != nil {
		edit(&next)
	}
	if !to.Active() && next.Finished.IsZero() {
		next.Finished = now
	}
	if err := deps.Update(ctx, &next, from); err != nil {
		if fresh, gerr := deps.Get(ctx, d.ID); gerr == nil {
			*d = *fresh
		}
		return err
	}
	*d = next
	return nil
}
