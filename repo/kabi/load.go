package kabi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kabiforge/kabiforge/internal/infile"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Kinds of input file, told apart by their first bytes.
const (
	kindText = iota // Module.symvers format, possibly compressed
	kindRPM
	kindELF // a kernel module, possibly compressed
)

var (
	magicRPM = []byte{0xed, 0xab, 0xee, 0xdb}
	magicELF = []byte{0x7f, 'E', 'L', 'F'}
)

// sniff tells what kind of file path is.
func sniff(path string) (int, error) {
	f, err := infile.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(4)
	if bytes.Equal(head, magicRPM) {
		return kindRPM, nil
	}
	dr, err := decompress(br, path)
	if err != nil {
		return 0, err
	}
	defer dr.Close()
	head = make([]byte, 4)
	n, _ := dr.Read(head)
	if bytes.Equal(head[:n], magicELF) {
		return kindELF, nil
	}
	return kindText, nil
}

// fromRPM reads what read finds in the RPM at path; not found is an error
// naming the file and saying what it lacks (notIt).
func fromRPM[T any](path string, read func(*rpm.Package) (T, bool, error), notIt string) (T, error) {
	var zero T
	p, err := openRPM(path)
	if err != nil {
		return zero, err
	}
	v, ok, err := read(p)
	if err != nil {
		return zero, err
	}
	if !ok {
		return zero, fmt.Errorf("%s: %s", path, notIt)
	}
	return v, nil
}

// openRPM opens the package at path after checking it against the digests
// it records, so a truncated or corrupt package is an error, not a kernel
// or kmod read from its intact headers.
func openRPM(path string) (*rpm.Package, error) {
	if err := rpm.CheckFile(path); err != nil {
		return nil, err
	}
	return rpm.Open(path)
}

// rpmsIn returns the binary RPMs in dir, sorted, opened.
func rpmsIn(dir string) ([]*rpm.Package, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.rpm"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out, err := openBinaryRPMs(paths)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no binary RPMs in the directory", dir)
	}
	return out, nil
}

// openBinaryRPMs opens the packages at paths (see openRPM), leaving out
// source packages.
func openBinaryRPMs(paths []string) ([]*rpm.Package, error) {
	var out []*rpm.Package
	for _, p := range paths {
		pkg, err := openRPM(p)
		if err != nil {
			return nil, err
		}
		if !pkg.IsSource() {
			out = append(out, pkg)
		}
	}
	return out, nil
}

// KernelFromFiles reads a kernel's ABI from the RPM files of one build
// (see KernelFromRPMs), each checked against its digests first: what the
// pipeline's analysis and `kabi` on a directory both read a kernel with.
func KernelFromFiles(paths []string) (*ABI, error) {
	pkgs, err := openBinaryRPMs(paths)
	if err != nil {
		return nil, err
	}
	return KernelFromRPMs(pkgs)
}

// LoadKernel reads a kernel's ABI from path, which may be a Module.symvers
// or Module.kabi_<arch> file (compressed or not), a kernel RPM (see
// KernelFromRPM), or a directory of one build's RPMs (see KernelFromRPMs;
// the pipeline's analysis reads them with KernelFromFiles).
func LoadKernel(path string) (*ABI, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		pkgs, err := rpmsIn(path)
		if err != nil {
			return nil, err
		}
		abi, err := KernelFromRPMs(pkgs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return abi, nil
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindRPM:
		return fromRPM(path, KernelFromRPM, "no kernel(sym) Provides and no Module.symvers or symvers.gz in the payload: not a kernel package")
	case kindELF:
		return nil, fmt.Errorf("%s: a kernel module, not a kernel's symbol table", path)
	}
	return ReadSymversFile(path)
}

// KernelFromRPMs reads a kernel's ABI from the packages of one build: the
// symbols of every package that carries them (see KernelFromRPM: a symbol
// table in the payload, else kernel(sym) Provides), merged, and the
// stablelist of kernel-abi-stablelists. The ABI is named after the packages
// its symbols came from. A package that cannot be read, or two that
// disagree on a CRC, is an error naming the package.
func KernelFromRPMs(pkgs []*rpm.Package) (*ABI, error) {
	var abi *ABI
	var names []string
	var stable *Stablelist
	for _, p := range pkgs {
		if l, ok, err := StablelistFromRPM(p); err != nil {
			return nil, err
		} else if ok {
			stable = l
			continue
		}
		k, ok, err := KernelFromRPM(p)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		names = append(names, p.NEVRA.String())
		if abi == nil {
			abi = k
		} else if err := abi.Merge(k); err != nil {
			return nil, fmt.Errorf("%s: %w", p.NEVRA, err)
		}
	}
	if abi == nil {
		return nil, errors.New("no package carries kernel symbols (kernel(sym) Provides or a symbol table in its payload)")
	}
	abi.Name = strings.Join(names, "+")
	if stable != nil {
		abi.SetStablelist(stable)
	}
	return abi, nil
}

// LoadKmods reads kmods from path: a kmod RPM (see KmodFromRPM), a
// directory of RPMs (each package that is a kmod), a kernel module file
// (.ko, .ko.xz, .ko.zst), or a file in Module.symvers format whose rows are
// read as the symbols and CRCs needed.
func LoadKmods(path string) ([]Kmod, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		pkgs, err := rpmsIn(path)
		if err != nil {
			return nil, err
		}
		var out []Kmod
		for _, p := range pkgs {
			k, ok, err := KmodFromRPM(p)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no kmod packages (kernel(sym) Requires or .ko files) in the directory", path)
		}
		return out, nil
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindRPM:
		k, err := fromRPM(path, KmodFromRPM, "no kernel(sym) Requires and no kernel modules in the payload: not a kmod package")
		if err != nil {
			return nil, err
		}
		return []Kmod{k}, nil
	case kindELF:
		m, err := ReadKernelModuleFile(path)
		if err != nil {
			return nil, err
		}
		return []Kmod{KmodFromModules(filepath.Base(path), []*KernelModule{m})}, nil
	}
	abi, err := ReadSymversFile(path)
	if err != nil {
		return nil, err
	}
	return []Kmod{{Name: path, Needs: abi.Needs()}}, nil
}
