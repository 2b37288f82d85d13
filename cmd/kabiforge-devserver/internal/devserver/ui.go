package devserver

import (
	"strings"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// newUI returns the Temporal UI for the frontend at frontend, serving its
// embedded assets on ip:port without auth and without fetching news.
func newUI(ip string, port int, frontend, namespace string) *uiserver.Server {
	return uiserver.NewServer(server_options.WithConfigProvider(&uiconfig.Config{
		Host:                bracketIPv6(ip),
		Port:                port,
		TemporalGRPCAddress: frontend,
		EnableUI:            true,
		DefaultNamespace:    namespace,
		CORS:                uiconfig.CORS{CookieInsecure: true},
		HideLogs:            true,
		DisableNewsFetch:    true,
	}))
}

func bracketIPv6(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]"
	}
	return ip
}
