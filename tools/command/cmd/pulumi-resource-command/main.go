// Command pulumi-resource-command is a STAND-IN for the Pulumi command provider (pulumi/pulumi-command v1.2.1).
//
// Why it exists: the real provider's Go module (github.com/pulumi/pulumi-command/provider) has no tags, and the Go
// module proxy reachable here refuses its pseudo-version v0.0.0-20260303235922-7f3eb6f3b77c (403 "This module version
// is not available"; sum.golang.org has no record of it either). Plugin downloads from get.pulumi.com or GitHub cannot
// be reached. So this program implements, on the provider gRPC protocol of pulumi v3.248.0, the two resources the
// project uses, with the behaviour documented in @pulumi/command 1.2.1:
//
//   - command:local:Command  create/update/delete run through `interpreter` (default /bin/sh -c) in `dir`, with
//     `environment` added to the provider's environment, `stdin`, `logging`, `addPreviousOutputInEnv`.
//   - command:remote:Command the same over SSH (golang.org/x/crypto/ssh): connection host/port(22)/user(root)/
//     privateKey(+privateKeyPassword)/password/agentSocketPath(or SSH_AUTH_SOCK)/hostKey/dialErrorLimit(10, -1 = no
//     limit)/perDialTimeout(15 s). `environment` is sent with SSH setenv requests (the server must AcceptEnv them).
//
// Semantics kept from upstream: stdout and stderr outputs lose one trailing newline; a failed command fails the step
// with "<err>: running "<cmd>":\n<combined output>" and leaves the resource in the state with its inputs (the engine
// then runs update, or create, again on the next `pulumi up`); `update` runs when any input changes, `create` when
// there is no `update`; a change of `triggers` or of the remote `connection` replaces the resource; PULUMI_COMMAND_STDOUT
// and PULUMI_COMMAND_STDERR carry the previous outputs into update and delete unless addPreviousOutputInEnv is false.
// Not implemented (they fail with a clear error): local assetPaths/archivePaths, remote connection.proxy,
// remote.CopyToRemote, remote.CopyFile and the local.run invoke.
package main

import (
	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is stamped by tools/build.sh: -ldflags "-X main.Version=v1.2.1". It must equal the npm @pulumi/command version,
// because the engine looks plugins up by exact version.
var Version = "v0.0.0-dev"

func main() {
	err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newCommandProvider(host), nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}
