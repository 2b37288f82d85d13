package config

// Source returns the source named name.
func (c *Config) Source(name string) (Source, bool) { return find(c.Sources, name, Source.named) }

// Stream returns the stream named name.
func (c *Config) Stream(name string) (Stream, bool) { return find(c.Streams, name, Stream.named) }

// Arch returns the arch named name.
func (c *Config) Arch(name string) (Arch, bool) { return find(c.Arches, name, Arch.named) }

// Kmod returns the kmod named name.
func (c *Config) Kmod(name string) (Kmod, bool) { return find(c.Kmods, name, Kmod.named) }

// Repository returns the repository named name.
func (c *Config) Repository(name string) (Repository, bool) {
	return find(c.Stores.Repositories, name, Repository.named)
}

func (s Source) named() string     { return s.Name }
func (s Stream) named() string     { return s.Name }
func (a Arch) named() string       { return a.Name }
func (k Kmod) named() string       { return k.Name }
func (r Repository) named() string { return r.Name }

func find[T any](list []T, name string, nameOf func(T) string) (T, bool) {
	for _, v := range list {
		if nameOf(v) == name {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// BuildsFor reports whether the kmod is built for the stream.
func (k Kmod) BuildsFor(stream string) bool {
	if len(k.Streams) == 0 {
		return true
	}
	for _, s := range k.Streams {
		if s == stream {
			return true
		}
	}
	return false
}
