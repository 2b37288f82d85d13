package devserver

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// clusterName names the single cluster of the dev server, and clusterID
// identifies it (the server wants a UUID; a fixed one keeps it stable across
// restarts on one database).
const (
	clusterName = "active"
	clusterID   = "4b61626f-7267-4520-8465-767365727665"
)

// ports are the TCP ports one dev server listens on.
type ports struct {
	frontend, frontendHTTP, history, matching, worker int
}

// pickPorts takes the frontend port from o and free ports for the rest.
func pickPorts(o *Options) (ports, error) {
	p := ports{frontend: o.Port}
	for _, dst := range []*int{&p.frontendHTTP, &p.history, &p.matching, &p.worker} {
		port, err := freePort(o.IP)
		if err != nil {
			return ports{}, err
		}
		*dst = port
	}
	return p, nil
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// serverConfig returns the static configuration of a single-process server
// with all four services bound to o.IP and persistence in SQLite.
func serverConfig(o *Options, p ports, sql *config.SQL) *config.Config {
	var c config.Config
	c.Global.Membership.MaxJoinDuration = 30 * time.Second
	c.Global.Membership.BroadcastAddress = o.IP

	const store = "sqlite"
	c.Persistence.DefaultStore = store
	c.Persistence.VisibilityStore = store
	c.Persistence.NumHistoryShards = 1
	c.Persistence.DataStores = map[string]config.DataStore{store: {SQL: sql}}

	c.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             hostPort(o.IP, p.frontend),
				HTTPAddress:            hostPort(o.IP, p.frontendHTTP),
				ClusterID:              clusterID,
			},
		},
	}
	c.DCRedirectionPolicy.Policy = "noop"

	service := func(grpcPort int) config.Service {
		var s config.Service
		s.RPC.GRPCPort = grpcPort
		s.RPC.BindOnIP = o.IP
		return s
	}
	frontend := service(p.frontend)
	frontend.RPC.HTTPPort = p.frontendHTTP
	c.Services = map[string]config.Service{
		"frontend": frontend,
		"history":  service(p.history),
		"matching": service(p.matching),
		"worker":   service(p.worker),
	}

	c.Archival.History.State = "disabled"
	c.Archival.Visibility.State = "disabled"
	c.NamespaceDefaults.Archival.History.State = "disabled"
	c.NamespaceDefaults.Archival.Visibility.State = "disabled"
	c.PublicClient.HostPort = hostPort(o.IP, p.frontend)
	return &c
}

// sqlConfig returns the SQLite settings for o.DBFile (in memory when empty),
// creating the file, its schema and the namespaces when missing.
func sqlConfig(o *Options) (*config.SQL, error) {
	c := &config.SQL{PluginName: sqliteplugin.PluginName}
	if o.DBFile == "" {
		c.DatabaseName = fmt.Sprintf("kabiforge-dev-%d", rand.Int64())
		c.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
	} else {
		if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o755); err != nil {
			return nil, fmt.Errorf("create directory of database %s: %w", o.DBFile, err)
		}
		c.DatabaseName = o.DBFile
		// setup=true creates the schema of a new file and is a no-op on an
		// existing one.
		c.ConnectAttributes = map[string]string{"mode": "rwc", "setup": "true"}
	}
	namespaces := make([]*sqliteschema.NamespaceConfig, 0, len(o.Namespaces))
	for _, ns := range o.Namespaces {
		nc, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, o.SearchAttributes)
		if err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns, err)
		}
		namespaces = append(namespaces, nc)
	}
	if err := sqliteschema.CreateNamespaces(c, namespaces...); err != nil {
		return nil, fmt.Errorf("database %s: %w", dbName(o), err)
	}
	return c, nil
}

func dbName(o *Options) string {
	if o.DBFile == "" {
		return "in memory"
	}
	return o.DBFile
}

// defaultDynamicConfig tunes the server for one developer machine.
func defaultDynamicConfig() map[string]any {
	return map[string]any{
		// New search attributes are visible at once instead of after a cache
		// refresh; that costs persistence reads, hence the higher limits.
		"system.forceSearchAttributesCacheRefreshOnRead": true,
		"frontend.persistenceMaxQPS":                     10000,
		"history.persistenceMaxQPS":                      45000,
		"history.hostLevelCacheMaxSize":                  8096,
		"frontend.namespaceRPS.visibility":               100,
		// No calls home from a dev machine.
		"frontend.enableServerVersionCheck": false,
	}
}

// valueTypes maps the names a user may write to search attribute types.
var valueTypes = map[string]enums.IndexedValueType{
	"text":        enums.INDEXED_VALUE_TYPE_TEXT,
	"keyword":     enums.INDEXED_VALUE_TYPE_KEYWORD,
	"int":         enums.INDEXED_VALUE_TYPE_INT,
	"double":      enums.INDEXED_VALUE_TYPE_DOUBLE,
	"bool":        enums.INDEXED_VALUE_TYPE_BOOL,
	"datetime":    enums.INDEXED_VALUE_TYPE_DATETIME,
	"keywordlist": enums.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}
