package plan

import (
	"fmt"

	"berth.dev/berth/apis/v1alpha1"
)

// pullImages pulls, once per image, what the containers about to be
// created need. Pulls are planned even for services still waiting on a
// dependency, so the download overlaps the wait.
func (b *builder) pullImages() {
	for _, name := range b.order {
		for _, st := range b.replicas[name] {
			if st.intent != intentCreate && st.intent != intentRecreate {
				continue
			}
			b.pullFor(st)
		}
	}
}

func (b *builder) pullFor(st *serviceState) {
	if st.svc.Build != nil {
		b.buildFor(st)
		return
	}
	ref, policy := st.cfg.Image, pullPolicy(st.svc)
	if _, planned := b.pullOps[ref]; planned {
		return
	}
	img := b.obs.Images[ref]
	var why string
	switch policy {
	case v1alpha1.PullNever:
		if img.Present {
			return
		}
		if img.PullFailures > 0 {
			// Absent when last checked. Check again after the back-off:
			// the user may build or load the image meanwhile.
			due := img.LastPullFailure.Add(b.opts.Backoff.Delay(img.PullFailures))
			if b.now.Before(due) {
				st.intent = intentHold
				b.plan.wait(st.svc.Name, Waiting{Reason: WaitErrImageNeverPull, Until: due,
					Message: fmt.Sprintf("image %s is not present and imagePullPolicy is Never", ref)})
				b.plan.requeueAt(b.now, due)
				return
			}
		}
		// The image cache is learned, not watched: the op only checks
		// presence (a Never op never pulls).
		b.pullOps[ref] = b.plan.add(Op{
			Kind: OpPullImage, Environment: b.env.Name, Image: ref, PullPolicy: policy,
			Reason: fmt.Sprintf("check image %s is present (imagePullPolicy Never)", ref),
		})
		return
	case v1alpha1.PullAlways:
		if img.Present && img.PulledGeneration >= b.env.Generation {
			return
		}
		why = fmt.Sprintf("imagePullPolicy Always, generation %d", b.env.Generation)
	default:
		if img.Present {
			return
		}
		why = "unless present"
	}

	if img.PullFailures > 0 {
		due := img.LastPullFailure.Add(b.opts.Backoff.Delay(img.PullFailures))
		if b.now.Before(due) {
			st.intent = intentHold
			b.plan.wait(st.svc.Name, Waiting{Reason: WaitImagePullFailed, Until: due,
				Message: fmt.Sprintf("pulling %s failed %d time(s), retrying after back-off: %s", ref, img.PullFailures, img.PullError)})
			b.plan.requeueAt(b.now, due)
			return
		}
		why = fmt.Sprintf("%s; retry %d", why, img.PullFailures)
	}
	b.pullOps[ref] = b.plan.add(Op{
		Kind: OpPullImage, Environment: b.env.Name, Image: ref, PullPolicy: policy,
		Reason: fmt.Sprintf("pull %s (%s)", ref, why),
	})
}
