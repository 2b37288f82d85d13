package pipeline

import "time"

// BootQueuePrefix starts the default task queue of an arch's boot tests,
// served by hosts that have its qemu-system binary.
const BootQueuePrefix = "boot-"

// BootVM is how one arch's kernels are booted; the workflow carries it from
// the configuration to the BootTest activity.
type BootVM struct {
	// Queue is the task queue of the boot workers, default boot-<arch>.
	Queue string `json:"queue"`
	// QEMU is the emulator binary, default qemu-system-<arch>.
	QEMU string `json:"qemu,omitempty"`
	// MemoryMiB is the VM's memory, default 512.
	MemoryMiB int `json:"memory_mib,omitempty"`
	// TimeLimit is the hard limit of one boot, default 60s.
	TimeLimit time.Duration `json:"time_limit,omitempty"`
	// Accel is auto or tcg (default).
	Accel string `json:"accel,omitempty"`
	// Args are extra kernel arguments, e.g. module.sig_enforce=1.
	Args []string `json:"args,omitempty"`
}

// BootInput asks for a kernel to be booted with kmods to load.
type BootInput struct {
	KernelNVR string     `json:"kernel_nvr"`
	Arch      string     `json:"arch"`
	Kernel    []Artifact `json:"kernel"`
	// Kmods maps a kmod name to its packages.
	Kmods map[string][]Artifact `json:"kmods"`
	VM    BootVM                `json:"vm"`
}

// BootOutput is what the kernel did with the kmods.
type BootOutput struct {
	// Booted reports that the VM ran the init to its end.
	Booted bool `json:"booted"`
	// Failure says why it did not (time limit, early power-off).
	Failure string        `json:"failure,omitempty"`
	Release string        `json:"release,omitempty"`
	Accel   string        `json:"accel,omitempty"`
	Elapsed time.Duration `json:"elapsed"`
	Kmods   []BootKmod    `json:"kmods"`
	// Log is the VM's console log; Report the results as JSON.
	Log    Artifact `json:"log"`
	Report Artifact `json:"report"`
}

// BootKmod is one kmod's result.
type BootKmod struct {
	Name   string `json:"name"`
	Loaded bool   `json:"loaded"`
	// Reason is the kernel's message about the first module it refused.
	Reason  string       `json:"reason,omitempty"`
	Modules []BootModule `json:"modules"`
}

// BootModule is the kernel's answer to loading one module.
type BootModule struct {
	Name     string   `json:"name"`
	Loaded   bool     `json:"loaded"`
	Errno    int      `json:"errno"`
	Messages []string `json:"messages,omitempty"`
}
