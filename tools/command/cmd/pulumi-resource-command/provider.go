package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	localCommand  = "command:local:Command"
	remoteCommand = "command:remote:Command"
)

// outputKeys are state properties that are not inputs; Diff ignores them.
var outputKeys = map[string]bool{"stdout": true, "stderr": true, "archive": true, "assets": true}

type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	host *provider.HostClient

	// cancelled by Cancel(): running commands are killed, pending dials stop.
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

func newCommandProvider(host *provider.HostClient) *commandProvider {
	ctx, cancel := context.WithCancel(context.Background())
	return &commandProvider{host: host, ctx: ctx, cancel: cancel}
}

var unmarshalOpts = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true, KeepResources: true}

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	opts := unmarshalOpts
	opts.Label = label
	pm, err := plugin.UnmarshalProperties(s, opts)
	if err != nil {
		return nil, err
	}
	if pm == nil {
		pm = resource.PropertyMap{}
	}
	return pm, nil
}

func marshal(pm resource.PropertyMap, label string) (*structpb.Struct, error) {
	opts := unmarshalOpts
	opts.Label = label
	return plugin.MarshalProperties(pm, opts)
}

func checkType(urn string) (string, error) {
	t := string(resource.URN(urn).Type())
	switch t {
	case localCommand, remoteCommand:
		return t, nil
	}
	return t, fmt.Errorf("resource type %q is not implemented by this stand-in pulumi-resource-command "+
		"(only %s and %s are; see tools/command)", t, localCommand, remoteCommand)
}

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(Version, "v")}, nil
}

func (p *commandProvider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{
		Schema: fmt.Sprintf(`{"name":"command","version":%q}`, strings.TrimPrefix(Version, "v")),
	}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	// Secrets arrive unwrapped; the engine marks outputs secret again where the inputs were.
	return &pulumirpc.ConfigureResponse{SupportsPreview: true}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.once.Do(p.cancel)
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, fmt.Errorf("function %q is not implemented by this stand-in pulumi-resource-command", req.GetTok())
}

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t, err := checkType(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	if t == localCommand {
		for _, k := range []resource.PropertyKey{"assetPaths", "archivePaths"} {
			if v, ok := news[k]; ok && !v.IsNull() {
				fail(string(k), string(k)+" is not implemented by the stand-in command provider")
			}
		}
	}
	if t == remoteCommand {
		conn, ok := news["connection"]
		if !ok || conn.IsNull() {
			fail("connection", "missing required property 'connection'")
		} else if conn.IsObject() {
			c := conn.ObjectValue()
			if h, ok := c["host"]; !ok || h.IsNull() {
				fail("connection.host", "missing required property 'connection.host'")
			}
			if px, ok := c["proxy"]; ok && !px.IsNull() {
				fail("connection.proxy", "connection.proxy is not implemented by the stand-in command provider")
			}
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	t, err := checkType(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	ignore := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignore[k] = true
	}
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var diffs, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for k := range keys {
		name := string(k)
		if outputKeys[name] || ignore[name] {
			continue
		}
		o, inOld := olds[k]
		n, inNew := news[k]
		if inOld && inNew && !n.ContainsUnknowns() && o.DeepEquals(n) {
			continue
		}
		replace := name == "triggers" || (t == remoteCommand && name == "connection")
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case !inOld:
			kind = pulumirpc.PropertyDiff_ADD
		case !inNew:
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if replace {
			kind++ // ADD -> ADD_REPLACE, DELETE -> DELETE_REPLACE, UPDATE -> UPDATE_REPLACE
			replaces = append(replaces, name)
		}
		diffs = append(diffs, name)
		detailed[name] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	sort.Strings(diffs)
	sort.Strings(replaces)
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(diffs) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes:         changes,
		Diffs:           diffs,
		Replaces:        replaces,
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}, nil
}

// withOutputs returns the state: the inputs plus stdout and stderr.
func withOutputs(inputs resource.PropertyMap, stdout, stderr resource.PropertyValue) resource.PropertyMap {
	state := inputs.Copy()
	state["stdout"] = stdout
	state["stderr"] = stderr
	return state
}

func computedString() resource.PropertyValue {
	return resource.MakeComputed(resource.NewStringProperty(""))
}

// initFailed reports a command that failed after the resource came to exist: the engine keeps it in the state
// (with these properties) and retries with Update on the next deployment, as upstream's provider framework does.
func initFailed(id string, state resource.PropertyMap, cause error) error {
	props, merr := marshal(state, "state")
	if merr != nil {
		return cause
	}
	return rpcerror.WithDetails(
		rpcerror.New(codes.Unknown, cause.Error()),
		&pulumirpc.ErrorResourceInitFailed{Id: id, Properties: props, Reasons: []string{cause.Error()}},
	)
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t, err := checkType(req.GetUrn())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	id, err := resource.NewUniqueHex(urn.Name(), 8, 0)
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(withOutputs(inputs, computedString(), computedString()), "create.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
	}
	stdout, stderr := "", ""
	if cmd, ok := str(inputs, "create"); ok {
		stdout, stderr, err = p.run(ctx, t, urn, inputs, cmd, nil)
	}
	state := withOutputs(inputs, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr))
	if err != nil {
		return nil, initFailed(id, state, err)
	}
	props, err := marshal(state, "create.state")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t, err := checkType(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(withOutputs(news, computedString(), computedString()), "update.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.UpdateResponse{Properties: props}, nil
	}
	cmd, ok := str(news, "update")
	if !ok {
		cmd, ok = str(news, "create")
	}
	oldOut, _ := str(olds, "stdout")
	oldErr, _ := str(olds, "stderr")
	stdout, stderr := oldOut, oldErr
	if ok {
		stdout, stderr, err = p.run(ctx, t, resource.URN(req.GetUrn()), news, cmd, previousOutputs(news, oldOut, oldErr))
	}
	state := withOutputs(news, resource.NewStringProperty(stdout), resource.NewStringProperty(stderr))
	if err != nil {
		return nil, initFailed(req.GetId(), state, err)
	}
	props, err := marshal(state, "update.state")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	t, err := checkType(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties(), "delete.properties")
	if err != nil {
		return nil, err
	}
	if cmd, ok := str(state, "delete"); ok {
		oldOut, _ := str(state, "stdout")
		oldErr, _ := str(state, "stderr")
		if _, _, err := p.run(ctx, t, resource.URN(req.GetUrn()), state, cmd, previousOutputs(state, oldOut, oldErr)); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	// Nothing to look up: the state is what the commands printed.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// previousOutputs is the PULUMI_COMMAND_STDOUT/STDERR environment for update and delete (unless
// addPreviousOutputInEnv is false). Empty values are not set, as upstream.
func previousOutputs(props resource.PropertyMap, stdout, stderr string) map[string]string {
	if v, ok := props["addPreviousOutputInEnv"]; ok && v.IsBool() && !v.BoolValue() {
		return nil
	}
	env := map[string]string{}
	if stdout != "" {
		env["PULUMI_COMMAND_STDOUT"] = stdout
	}
	if stderr != "" {
		env["PULUMI_COMMAND_STDERR"] = stderr
	}
	return env
}

func (p *commandProvider) run(ctx context.Context, t string, urn resource.URN, props resource.PropertyMap,
	cmd string, extraEnv map[string]string,
) (string, string, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-p.ctx.Done():
			stop()
		case <-ctx.Done():
		}
	}()
	logOut, logErr := loggingStreams(props)
	out := newCommandOutput(ctx, p.host, urn, logOut, logErr)
	var err error
	if t == localCommand {
		err = runLocal(ctx, props, cmd, extraEnv, out)
	} else {
		err = runRemote(ctx, props, cmd, extraEnv, out)
	}
	out.flush()
	if err != nil {
		return "", "", fmt.Errorf("%w: running %q:\n%s", err, cmd, out.combined.String())
	}
	return strings.TrimSuffix(out.stdout.String(), "\n"), strings.TrimSuffix(out.stderr.String(), "\n"), nil
}

// loggingStreams reads `logging`: stdout, stderr, stdoutAndStderr (default) or none.
func loggingStreams(props resource.PropertyMap) (bool, bool) {
	mode, _ := str(props, "logging")
	switch mode {
	case "none":
		return false, false
	case "stdout":
		return true, false
	case "stderr":
		return false, true
	}
	return true, true
}

// str returns a non-empty string property.
func str(pm resource.PropertyMap, key resource.PropertyKey) (string, bool) {
	v, ok := pm[key]
	if !ok {
		return "", false
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() || v.StringValue() == "" {
		return "", false
	}
	return v.StringValue(), true
}

func num(pm resource.PropertyMap, key resource.PropertyKey) (float64, bool) {
	v, ok := pm[key]
	if !ok {
		return 0, false
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsNumber() {
		return 0, false
	}
	return v.NumberValue(), true
}

func stringMap(pm resource.PropertyMap, key resource.PropertyKey) map[string]string {
	v, ok := pm[key]
	if !ok {
		return nil
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsObject() {
		return nil
	}
	m := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e.IsSecret() {
			e = e.SecretValue().Element
		}
		if e.IsString() {
			m[string(k)] = e.StringValue()
		}
	}
	return m
}
