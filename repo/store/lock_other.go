//go:build !unix

package store

import (
	"errors"
	"os"
)

func lockFile(f *os.File) error   { return errors.New("file locks need a unix system") }
func unlockFile(f *os.File) error { return nil }

type fileID struct{}

func idOf(fi os.FileInfo) (fileID, bool) { return fileID{}, false }
