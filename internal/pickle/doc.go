// Package pickle reads and writes the subset of Python's pickle format that
// session data uses, without ever executing anything.
//
// weppy and Emmett store sessions as pickles of an sdict (a dict subclass):
// in Redis as the bare pickle, in cookies encrypted (see internal/pycookie).
// Decode reads pickles of protocols 0 to 5 as CPython writes them for data:
// scalars, strings, bytes, lists, tuples, sets, dicts, datetimes and
// instances of classes, which are recognised by name only (an sdict of any
// module and the standard dict subclasses become maps, datetime.* become
// DateTime, unknown classes become Object). Persistent ids, the extension
// registry and out-of-band buffers are refused with ErrUnsupported.
//
// Decoding is bounded by Limits: input size, mark and container nesting,
// container length, total values (also as the result would expand when a
// value is shared through the memo), memo size and integer size. Length
// fields are checked against the remaining input before anything is
// allocated, and a container that contains itself is ErrCycle.
//
// Encoder writes an sdict pickle (protocol 4 by default, or 2) that
// CPython's pickle.loads reads back, for a Go service that shares Redis
// sessions with an Emmett app.
package pickle
