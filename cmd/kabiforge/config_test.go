package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigExampleThenCheck(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("KABIFORGE_CONFIG", "")
	example, err := runInProcess(t, "config", "example")
	if err != nil || !strings.Contains(example, "temporal:") {
		t.Fatalf("config example: %v\n%s", err, example)
	}
	if err := os.WriteFile("kabiforge.yaml", []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"config", "check"},
		{"config", "check", "kabiforge.yaml"},
		{"config", "check", "--config", filepath.Join(dir, "kabiforge.yaml")},
	} {
		out, err := runInProcess(t, args...)
		if err != nil || out != "ok\n" {
			t.Errorf("%v: %q, %v", args, out, err)
		}
	}
}

func TestConfigCheckReportsEveryProblemWithExit2(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("temporal:\n  adress: x\nsources:\n  - {name: a, url: \"ftp://m/s\", unsigned: true}\n"), 0o644)
	out, err := runInProcess(t, "config", "check", file)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("want exit code 2, got %v (out %q)", err, out)
	}
	for _, want := range []string{
		"2 problem(s) in " + file,
		file + `:2: temporal.adress: unknown field; did you mean "address"?`,
		file + `:4: sources[0].url: scheme "ftp" not supported; use https, http, file or s3`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if out != "" {
		t.Errorf("nothing should go to stdout on problems: %q", out)
	}
}

func TestConfigCheckFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	file := filepath.Join(dir, "k.yaml")
	os.WriteFile(file, []byte("log_level: loud\n"), 0o644)
	t.Setenv("KABIFORGE_CONFIG", file)
	_, err := runInProcess(t, "config", "check")
	if err == nil || !strings.Contains(err.Error(), file+`:1: log_level: "loud" is not one of debug, info, warn or error`) {
		t.Errorf("$KABIFORGE_CONFIG not checked: %v", err)
	}
}
