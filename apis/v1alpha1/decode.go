package v1alpha1

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// DecodeEnvironments decodes every Environment in data: multi-document YAML,
// a stream of JSON objects, and EnvironmentList or v1 List wrappers (what
// `get -o yaml` prints). Decoding is strict, like `kubectl apply
// --validate=strict`: an unknown or duplicate field is an error naming its
// path (unknown field "spec.services[0].imagePolicy"), because a silently
// dropped misspelling would run a different stack than the user wrote.
// Objects are returned as written; callers apply SetDefaults.
func DecodeEnvironments(data []byte) ([]*Environment, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	var envs []*Environment
	var errs []error
	for i, doc := range docs {
		got, err := decodeObject(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %w", i+1, err))
			continue
		}
		envs = append(envs, got...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(envs) == 0 {
		return nil, errors.New("no Environment found")
	}
	return envs, nil
}

// splitDocuments returns each non-empty document as JSON.
func splitDocuments(data []byte) ([][]byte, error) {
	var docs [][]byte
	if utilyaml.IsJSONBuffer(data) {
		// Read JSON directly: tab-indented JSON is not valid YAML.
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var raw json.RawMessage
			err := dec.Decode(&raw)
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			if err != nil {
				return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
			}
			docs = append(docs, raw)
		}
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		// Strict here too: a repeated key would otherwise keep only its
		// last value.
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", n, err)
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			n-- // only comments or blank lines: not a document
			continue
		}
		docs = append(docs, js)
	}
}

// decodeObject decodes one JSON object: an Environment, or a list of them.
func decodeObject(js []byte) ([]*Environment, error) {
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("not a Kubernetes-style object: %w", err)
	}
	want := SchemeGroupVersion.String()
	switch {
	case tm.Kind == "":
		return nil, errors.New("kind is required (Environment)")
	case tm.APIVersion == "":
		return nil, fmt.Errorf("apiVersion is required (%s)", want)
	case tm.Kind == "List" && tm.APIVersion == "v1",
		tm.Kind == "EnvironmentList" && tm.APIVersion == want:
		return decodeList(js)
	case tm.Kind != "Environment":
		return nil, fmt.Errorf("kind %q is not supported: want Environment (%s)", tm.Kind, want)
	case tm.APIVersion != want:
		return nil, fmt.Errorf("apiVersion %q is not supported for Environment: want %s", tm.APIVersion, want)
	}
	env := &Environment{}
	if err := unmarshalStrict(js, env); err != nil {
		if env.Name != "" {
			return nil, fmt.Errorf("Environment %q: %w", env.Name, err)
		}
		return nil, err
	}
	return []*Environment{env}, nil
}

func decodeList(js []byte) ([]*Environment, error) {
	var list struct {
		metav1.TypeMeta `json:",inline"`
		metav1.ListMeta `json:"metadata,omitempty"`
		Items           []json.RawMessage `json:"items"`
	}
	if err := unmarshalStrict(js, &list); err != nil {
		return nil, err
	}
	var envs []*Environment
	for i, item := range list.Items {
		got, err := decodeObject(item)
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		envs = append(envs, got...)
	}
	return envs, nil
}

// unmarshalStrict uses sigs.k8s.io/json, as the API server does, for its
// case-sensitive field matching and its errors that carry the field path.
func unmarshalStrict(js []byte, into any) error {
	strictErrs, err := sigsjson.UnmarshalStrict(js, into)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		msgs := make([]string, len(strictErrs))
		for i, e := range strictErrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding error: %s", strings.Join(msgs, ", "))
	}
	return nil
}
