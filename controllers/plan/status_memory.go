package plan

import "berth.dev/berth/apis/v1alpha1"

// memoryStatus records the memory limit and reservation of a service's
// container in its status, so readers (the dashboard's reserved memory)
// need not rebuild container configs to learn them. cfg is the zero value
// when the service's config could not be built; then nothing is recorded.
func memoryStatus(st *v1alpha1.ServiceStatus, cfg ContainerConfig) {
	st.MemoryLimitBytes = cfg.Resources.MemoryLimit
	st.MemoryRequestBytes = cfg.Resources.MemoryReservation
}
