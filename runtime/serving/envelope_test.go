package serving

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// FuzzV2EnvelopeMatchesEncodingJSON checks the reflection-free reader of
// the v2 envelope against encoding/json: whenever it takes a body, it
// must read what encoding/json reads from it.
func FuzzV2EnvelopeMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(`{"id":"r1","inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,"NaN"]}],"outputs":[{"name":"y"}],"parameters":{"a":1}}`))
	f.Add([]byte(`{"inputs":[{"name":"user_id","shape":[2],"datatype":"INT64","data":[7,8],"parameters":{}}, {"name":"z","shape":[],"datatype":"BYTES","data":"a"}]}`))
	f.Add([]byte(`{"Inputs":[{"NAME":"x","shape":[1],"datatype":"FP32","data":[1]}]}`))
	f.Add([]byte(`{"id":"a\"b","inputs":null,"outputs":[]}`))
	f.Add([]byte(`{"inputs":[{"name":"x","shape":[1.0,-0,9223372036854775808],"data":null}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast v2Request
		if !decodeV2Envelope(body, &fast) {
			return
		}
		var slow v2Request
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path took %s, encoding/json refuses it: %v", body, err)
		}
		same := fast.ID == slow.ID && bytes.Equal(fast.Params, slow.Params) &&
			len(fast.Inputs) == len(slow.Inputs) && len(fast.Outputs) == len(slow.Outputs)
		for i := 0; same && i < len(fast.Inputs); i++ {
			a, b := fast.Inputs[i], slow.Inputs[i]
			same = a.Name == b.Name && a.Datatype == b.Datatype && slices.Equal(a.Shape, b.Shape) &&
				(a.Shape == nil) == (b.Shape == nil) && bytes.Equal(a.Data, b.Data)
		}
		for i := 0; same && i < len(fast.Outputs); i++ {
			same = fast.Outputs[i] == slow.Outputs[i]
		}
		if !same {
			t.Fatalf("%s\nfast path: %+v\nencoding/json: %+v", body, fast, slow)
		}
	})
}

// FuzzRawObjectsMatchEncodingJSON checks the reflection-free reader of TF
// Serving's row objects ({"instances": [{...}, ...]}) against
// encoding/json's map[string]json.RawMessage.
func FuzzRawObjectsMatchEncodingJSON(f *testing.F) {
	f.Add([]byte(`[{"x":[1,2],"n":[3],"tag":["a"]},{"x":[4,5],"n":null,"x":[6]}]`))
	f.Add([]byte(`[{"a\u0062":1},{}]`))
	f.Add([]byte(`[{"\xff":1}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := rawObjects(body)
		if !ok {
			return
		}
		var slow []map[string]json.RawMessage
		if err := json.Unmarshal(body, &slow); err != nil {
			t.Fatalf("fast path took %s, encoding/json refuses it: %v", body, err)
		}
		same := len(fast) == len(slow)
		for i := 0; same && i < len(fast); i++ {
			same = len(fast[i]) == len(slow[i])
			for k, v := range fast[i] {
				same = same && bytes.Equal(v, slow[i][k])
			}
		}
		if !same {
			t.Fatalf("%s\nfast path: %q\nencoding/json: %q", body, fast, slow)
		}
	})
}
