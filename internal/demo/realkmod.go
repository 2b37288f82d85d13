package demo

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed realkmods
var realKmodFiles embed.FS

var realKmodSpec = template.Must(template.ParseFS(realKmodFiles, "realkmods/kmod.spec"))

// Names of the real kmods: small GPL-2.0 modules in C (realkmods/).
const (
	// RealKmodCount exports kfcount_add.
	RealKmodCount = "kfcount"
	// RealKmodWatch uses kfcount_add, so it requires ksym(kfcount_add).
	RealKmodWatch = "kfwatch"
	// RealKmodMisc registers a misc device.
	RealKmodMisc = "kfmisc"
)

// RealKmodNames lists the real kmods.
func RealKmodNames() []string { return []string{RealKmodCount, RealKmodWatch, RealKmodMisc} }

// realKmodModules are the modules each kmod's build compiles: kfwatch
// compiles kfcount beside it so modpost knows kfcount_add's CRC, and
// installs only its own module.
var realKmodModules = map[string][]string{
	RealKmodCount: {"kfcount"},
	RealKmodWatch: {"kfcount", "kfwatch"},
	RealKmodMisc:  {"kfmisc"},
}

// RealKmodSRPM writes the source package of the real kmod name, an
// ELRepo-style spec for kernelNVR (as kmod_kernel_version spells it, e.g.
// "6.1.0-47.el8") with release, into dir and returns its path.
func RealKmodSRPM(dir, name, kernelNVR, release string) (string, error) {
	mods, ok := realKmodModules[name]
	if !ok {
		return "", fmt.Errorf("real kmod %q: unknown; want one of %s", name, strings.Join(RealKmodNames(), ", "))
	}
	sources := map[string][]byte{}
	var names, objs []string
	for _, m := range mods {
		data, err := realKmodFiles.ReadFile("realkmods/" + m + ".c")
		if err != nil {
			return "", fmt.Errorf("real kmod %s: %w", name, err)
		}
		sources[m+".c"] = data
		names = append(names, m+".c")
		objs = append(objs, m+".o")
	}
	sources["Kbuild"] = []byte("obj-m := " + strings.Join(objs, " ") + "\n")
	names = append(names, "Kbuild")
	var b bytes.Buffer
	err := realKmodSpec.Execute(&b, map[string]any{
		"Name": name, "KernelNVR": kernelNVR, "Version": "1.0", "Release": release, "Sources": names,
	})
	if err != nil {
		return "", fmt.Errorf("render real kmod %s spec: %w", name, err)
	}
	return buildSRPM(dir, "kmod-"+name+".spec", b.Bytes(), sources)
}
