package inspect_test

import (
	"os"

	"github.com/wsess/wsess/internal/inspect"
	"github.com/wsess/wsess/internal/pickle"
)

// A Redis value written by an Emmett app is a pickle of an sdict;
// DecodeValue recognises it and WriteJSON shows it.
func ExampleDecodeValue() {
	stored, _ := pickle.Marshal(map[string]any{"counter": 7, "user": "ann"})
	s, err := inspect.DecodeValue(stored, "")
	if err != nil {
		panic(err)
	}
	_ = inspect.WriteJSON(os.Stdout, s, map[string]any{"key": "emtsess:9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"})
	// Output:
	// {
	//   "format": "pickle",
	//   "data": {
	//     "counter": 7,
	//     "user": "ann"
	//   },
	//   "size": 58,
	//   "expires": null,
	//   "key": "emtsess:9b2f4a0e-6f4c-4e0e-8d2a-3f1c2b7a9e10"
	// }
}

func ExamplePreview() {
	data := map[string]any{"counter": 7, "auth": map[string]any{"user": 1}, "name": "Zoë"}
	println := func(s string) { os.Stdout.WriteString(s + "\n") }
	println(inspect.Preview(data, 0))
	println(inspect.Preview(data, 20))
	// Output:
	// auth={1 key} counter=7 name="Zoë"
	// auth={1 key} counte…
}
