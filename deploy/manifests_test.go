package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// strict decodes YAML the way the API server's strict field validation does:
// field names case-sensitive, unknown and duplicate fields refused. (A plain
// encoding/json decode would accept "targetport" for targetPort.)
func strict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	serrs, err := kjson.UnmarshalStrict(j, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(serrs...)
}

// kustomization is the part of kustomize's Kustomization the manifests use;
// decoding it strictly makes any other field an error, so a new one is a
// deliberate change to this type.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
	} `json:"labels,omitempty"`
	Resources []string `json:"resources,omitempty"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
	} `json:"images,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	Patches            []struct {
		Path string `json:"path"`
	} `json:"patches,omitempty"`
}

type generator struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
}

// object is one decoded manifest document.
type object struct {
	file string
	kind string
	name string
	obj  any
}

// typed returns an empty value of the k8s.io/api type for apiVersion/kind.
func typed(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1 NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	case "networking.k8s.io/v1 Ingress":
		return &networkingv1.Ingress{}, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	}
	return nil, false
}

// documents splits a YAML stream on its "---" separators.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func stripComments(d []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(d, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			out = append(out, l...)
			out = append(out, '\n')
		}
	}
	return out
}

// load decodes every YAML file under the module strictly: kustomizations into
// kustomization, everything else into its k8s.io/api type.
func load(t *testing.T) (map[string]*kustomization, []object) {
	t.Helper()
	ks := map[string]*kustomization{}
	var objs []object
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, doc := range documents(data) {
			where := fmt.Sprintf("%s#%d", path, i)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if head.Kind == "Kustomization" {
				if filepath.Base(path) != "kustomization.yaml" {
					return fmt.Errorf("%s: a Kustomization must be named kustomization.yaml", where)
				}
				k := new(kustomization)
				if err := strict(doc, k); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if k.APIVersion != "kustomize.config.k8s.io/v1beta1" {
					return fmt.Errorf("%s: apiVersion %q", where, k.APIVersion)
				}
				ks[filepath.Dir(path)] = k
				continue
			}
			obj, ok := typed(head.APIVersion, head.Kind)
			if !ok {
				return fmt.Errorf("%s: no k8s.io/api type known for %s %s", where, head.APIVersion, head.Kind)
			}
			if err := strict(doc, obj); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if head.Metadata.Name == "" {
				return fmt.Errorf("%s: metadata.name missing", where)
			}
			objs = append(objs, object{file: path, kind: head.Kind, name: head.Metadata.Name, obj: obj})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) == 0 || len(objs) == 0 {
		t.Fatalf("found %d kustomizations and %d objects", len(ks), len(objs))
	}
	return ks, objs
}

func TestManifestsDecodeStrictly(t *testing.T) {
	load(t) // every failure is reported by load
}

// TestStrictDecodingCatchesTypos makes sure the test above would catch what
// it is for: an unknown or misspelt field.
func TestStrictDecodingCatchesTypos(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 3}\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80, targetport: 8080}]}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, name: y}\n",
	} {
		var d appsv1.Deployment
		var s corev1.Service
		var target any = &d
		if strings.Contains(doc, "Service") {
			target = &s
		}
		if err := strict([]byte(doc), target); err == nil {
			t.Errorf("accepted %q", doc)
		}
	}
}

// TestKustomizationsReferenceWhatExists checks every path a kustomization
// names, that patches patch objects of the base, and that no manifest is
// left out of every kustomization.
func TestKustomizationsReferenceWhatExists(t *testing.T) {
	ks, objs := load(t)
	referenced := map[string]bool{}
	for dir, k := range ks {
		for _, r := range k.Resources {
			p := filepath.Join(dir, r)
			st, err := os.Stat(p)
			switch {
			case err != nil:
				t.Errorf("%s: resource %s: %v", dir, r, err)
			case st.IsDir():
				if ks[p] == nil {
					t.Errorf("%s: resource %s is a directory without kustomization.yaml", dir, r)
				}
			default:
				referenced[p] = true
			}
		}
		for _, g := range append(slices.Clone(k.ConfigMapGenerator), k.SecretGenerator...) {
			for _, f := range g.Files {
				_, file, _ := strings.Cut(f, "=")
				if file == "" {
					file = f
				}
				if _, err := os.Stat(filepath.Join(dir, file)); err != nil {
					t.Errorf("%s: generator %s: %v", dir, g.Name, err)
				}
			}
		}
		for _, p := range k.Patches {
			path := filepath.Join(dir, p.Path)
			referenced[path] = true
			for _, o := range objs {
				if o.file != path {
					continue
				}
				if !slices.ContainsFunc(objs, func(b object) bool { return b.file != path && b.kind == o.kind && b.name == o.name }) {
					t.Errorf("%s: patch of %s %s, which no resource defines", path, o.kind, o.name)
				}
			}
		}
	}
	for _, o := range objs {
		if !referenced[o.file] {
			t.Errorf("%s is in no kustomization", o.file)
		}
	}
}

// TestBaseDeployment checks the properties docs/deploy.md promises.
func TestBaseDeployment(t *testing.T) {
	_, objs := load(t)
	var dep *appsv1.Deployment
	for _, o := range objs {
		if d, ok := o.obj.(*appsv1.Deployment); ok && o.file == filepath.Join("base", "deployment.yaml") {
			dep = d
		}
	}
	if dep == nil {
		t.Fatal("base/deployment.yaml has no Deployment")
	}
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
			t.Errorf("%s probe: want GET %s, have %+v", name, path, p)
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep")
	}
	// cmd/bridge's TestDeploymentGracePeriod ties the grace period to the
	// bridge's own shutdown timeout; here: it covers the preStop at least.
	if g := spec.TerminationGracePeriodSeconds; g == nil || *g <= c.Lifecycle.PreStop.Sleep.Seconds {
		t.Errorf("terminationGracePeriodSeconds %v not above the preStop sleep", g)
	}
	sc, psc := c.SecurityContext, spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("pod not runAsNonRoot")
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v", sc)
	}
	if dep.Spec.Strategy.RollingUpdate == nil || dep.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Error("rolling update must keep maxUnavailable 0")
	}
	pod := dep.Spec.Template.Labels
	matches := func(what string, sel map[string]string) {
		for k, v := range sel {
			if pod[k] != v {
				t.Errorf("%s selects %s=%s, which the pods do not carry", what, k, v)
			}
		}
		if len(sel) == 0 {
			t.Errorf("%s selects everything", what)
		}
	}
	allowed := map[int32]bool{53: true, 143: true, 993: true, 587: true, 465: true, 6379: true}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			matches(o.file, v.Spec.Selector)
		case *policyv1.PodDisruptionBudget:
			matches(o.file, v.Spec.Selector.MatchLabels)
		case *networkingv1.NetworkPolicy:
			matches(o.file, v.Spec.PodSelector.MatchLabels)
			for _, e := range v.Spec.Egress {
				if len(e.Ports) == 0 {
					t.Errorf("%s: an egress rule open to every port", o.file)
				}
				// The bridge's HTTP port, to the bridge's own pods only
				// (transfers passed to the replica holding the ticket).
				toPeers := len(e.To) > 0
				for _, to := range e.To {
					if to.PodSelector == nil || to.NamespaceSelector != nil || to.IPBlock != nil {
						toPeers = false
					} else {
						matches(o.file+" egress to the replicas", to.PodSelector.MatchLabels)
					}
				}
				for _, p := range e.Ports {
					if p.Port != nil && p.Port.IntVal == 8080 && toPeers {
						continue
					}
					if p.Port == nil || !allowed[p.Port.IntVal] {
						t.Errorf("%s: egress port %v not in DNS/IMAP/submission/Redis (or 8080 to the bridge's own pods)", o.file, p.Port)
					}
				}
			}
		}
	}
}
