// Package deploy holds the Kubernetes manifests of imapbridge (a kustomize
// base and an example overlay) and the test that decodes every one of them
// strictly into the k8s.io/api types, so that a misspelt or removed field
// fails the test suite instead of a deployment. It is a module of its own so
// that the Kubernetes API types never become a dependency of the bridge.
package deploy
