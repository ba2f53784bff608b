package inspect_test

import (
	"encoding/json"
	"fmt"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/pickle"
)

// A Redis value written by an Emmett app is a pickle of an sdict;
// DecodeValue recognises it and returns its data as plain JSON values.
func ExampleDecodeValue() {
	stored, _ := pickle.Marshal(map[string]any{"counter": 7, "user": "ann"})
	s, err := inspect.DecodeValue(stored, "")
	if err != nil {
		panic(err)
	}
	data, _ := json.Marshal(s.Data)
	fmt.Println(s.Format, s.Size, string(data))
	// Output:
	// pickle 58 {"counter":7,"user":"ann"}
}

// Fields flattens nested objects into dotted paths, in order.
func ExampleFields() {
	data := map[string]any{"counter": 7, "auth": map[string]any{"user": map[string]any{"id": 42}}, "tags": []any{"a"}}
	for _, f := range inspect.Fields(data) {
		fmt.Println(f.Path, f.Value)
	}
	// Output:
	// auth.user.id 42
	// counter 7
	// tags ["a"]
}
