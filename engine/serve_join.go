package engine

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue"

	"sluice/runtime/features"
	"sluice/runtime/serving"
	"sluice/schema"
)

// OnlineReader is the online store as an endpoint's feature join reads it,
// for the life of the server: it must stay open after apply returns.
type OnlineReader interface {
	OnlineView(ctx context.Context, view string, keys []features.EntityKey, fields []string, now time.Time) ([][]features.Value, error)
}

var _ OnlineReader = (*features.Store)(nil)

// joinView is the features one view gives a join, and where their entity
// keys sit in the request's.
type joinView struct {
	view   string
	fields []string
	pos    []int    // position of each field in the join's Features
	keyAt  []int    // per view entity, its key's index in the endpoint's entity_keys
	types  []string // per view entity, its key type
}

// endpointJoin is the join of an endpoint that declares features, without
// its Lookup: what the plan checks against the model's signature. Each
// feature fills the model input named after its field, as the built-in
// trainers name them. A problem names the endpoint's field at fault.
func endpointJoin(spec *schema.Spec, e *schema.Endpoint) (*serving.FeatureJoin, []joinView, []fieldError) {
	if len(e.Features) == 0 {
		return nil, nil, nil
	}
	j := &serving.FeatureJoin{EntityKeys: e.EntityKeys, OnMissing: e.OnMissingEntity}
	var views []joinView
	byView := map[string]int{}
	var errs []fieldError
	for i, ref := range e.Features {
		view, field, _ := strings.Cut(ref, ":")
		fv := spec.Features[view]
		typ := fieldType(fv, field)
		if typ == "" {
			continue // schema.Check reports an unknown view or field
		}
		k, ok := byView[view]
		if !ok && !fv.Online {
			errs = append(errs, fieldError{fmt.Sprintf("features[%d]", i), fmt.Sprintf("feature view %s is not online (online: false): an endpoint cannot join it", view)})
		}
		if !ok {
			jv := joinView{view: view}
			for _, name := range fv.Entities {
				ent := spec.Entities[name]
				if ent == nil {
					continue
				}
				at := indexOf(e.EntityKeys, ent.JoinKey)
				if at < 0 {
					errs = append(errs, fieldError{fmt.Sprintf("features[%d]", i), fmt.Sprintf("feature view %s is keyed by %s, which entity_keys (%s) lacks", view, ent.JoinKey, strings.Join(e.EntityKeys, ", "))})
				}
				jv.keyAt, jv.types = append(jv.keyAt, at), append(jv.types, ent.Type)
			}
			k = len(views)
			byView[view] = k
			views = append(views, jv)
		}
		jv := &views[k]
		jv.fields = append(jv.fields, field)
		jv.pos = append(jv.pos, len(j.Features))
		var keys []string
		for _, at := range jv.keyAt {
			if at >= 0 {
				keys = append(keys, e.EntityKeys[at])
			}
		}
		def, err := featureDefault(typ, e.FeatureDefaults[ref])
		if err != nil {
			errs = append(errs, fieldError{defaultField(ref), err.Error()})
		}
		j.Features = append(j.Features, serving.JoinedFeature{Ref: ref, Input: field, Type: typ, Keys: keys, Default: def})
	}
	for _, ref := range sortedKeys(e.FeatureDefaults) {
		switch {
		case !contains(e.Features, ref):
			errs = append(errs, fieldError{defaultField(ref), fmt.Sprintf("%s is not one of the endpoint's features (%s)", ref, strings.Join(e.Features, ", "))})
		case e.OnMissingEntity != "default":
			errs = append(errs, fieldError{defaultField(ref), fmt.Sprintf("a default for %s is never used: on_missing_entity is %q, which refuses a missing entity; set it to \"default\"", ref, e.OnMissingEntity)})
		}
	}
	return j, views, errs
}

// defaultField is the path of a feature's default in the endpoint's spec.
func defaultField(ref string) string {
	return "feature_defaults." + cue.Str(ref).String()
}

// featureDefault is a declared default as a value of the feature's type,
// the way the online store returns it; nil when none is declared.
func featureDefault(typ string, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		switch typ {
		case "int64":
			return x, nil
		case "float64":
			return float64(x), nil
		}
	case float64:
		switch typ {
		case "float64":
			return x, nil
		case "int64":
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return nil, fmt.Errorf("default %v is not a whole number: the feature is int64", x)
			}
			return int64(x), nil
		}
	case string:
		if typ == "string" {
			return x, nil
		}
	case bool:
		if typ == "bool" {
			return x, nil
		}
	}
	return nil, fmt.Errorf("default %v is a %s, the feature is %s", v, jsonKind(v), typ)
}

// jsonKind names a decoded value's kind as a spec author writes it.
func jsonKind(v any) string {
	switch v.(type) {
	case int64, float64, *big.Int:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// fieldType is the type of the view's field, or "" when there is none.
func fieldType(fv *schema.FeatureView, field string) string {
	if fv == nil {
		return ""
	}
	for _, f := range fv.Fields {
		if f.Name == field {
			return f.Type
		}
	}
	return ""
}

// fieldError is a problem with one field of a resource.
type fieldError struct{ field, msg string }

// wireJoin gives an endpoint's join its Lookup on the online store.
func wireJoin(j *serving.FeatureJoin, views []joinView, online OnlineReader) {
	j.Lookup = func(ctx context.Context, entities [][]string) ([][]serving.FeatureValue, error) {
		out := make([][]serving.FeatureValue, len(entities))
		for r := range out {
			out[r] = make([]serving.FeatureValue, len(j.Features))
		}
		now := time.Now()
		for _, jv := range views {
			keys := make([]features.EntityKey, len(entities))
			for r, row := range entities {
				key, err := jv.key(j.EntityKeys, row)
				if err != nil {
					return nil, serving.BadRequest(err)
				}
				keys[r] = key
			}
			vals, err := online.OnlineView(ctx, jv.view, keys, jv.fields, now)
			if err != nil {
				return nil, err
			}
			for r := range vals {
				for f, p := range jv.pos {
					out[r][p] = featureValue(vals[r][f])
				}
			}
		}
		return out, nil
	}
}

// key is one request row's entity key of the view, typed.
func (jv *joinView) key(names, row []string) (features.EntityKey, error) {
	key := make(features.EntityKey, len(jv.keyAt))
	for i, at := range jv.keyAt {
		s := row[at]
		if jv.types[i] != "int64" {
			key[i] = s
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entity key %s: %q is not an int64", names[at], s)
		}
		key[i] = n
	}
	return key, nil
}

// featureValue is what the join sees of one looked-up value.
func featureValue(v features.Value) serving.FeatureValue {
	switch v.Status {
	case features.Present:
		return serving.FeatureValue{Value: v.Value}
	case features.NullValue:
		return serving.FeatureValue{Missing: "is null in the online store"}
	case features.OutsideMaxAge:
		return serving.FeatureValue{Missing: "is older than its view's ttl"}
	}
	return serving.FeatureValue{Missing: "not found in the online store"}
}

func indexOf(xs []string, x string) int {
	for i, s := range xs {
		if s == x {
			return i
		}
	}
	return -1
}
