// Package pickle reads and writes the subset of Python's pickle format that
// session data uses, without ever executing anything.
//
// weppy and Emmett store sessions as pickles of an sdict (a dict subclass):
// in Redis as the bare pickle, in cookies encrypted (see internal/pycookie).
// Decode reads pickles of protocols 0 to 5 as CPython writes them for data:
// scalars, strings, bytes, lists, tuples, sets, dicts, datetimes and
// instances of classes, which are recognised by name only (an sdict of any
// module and the standard dict subclasses become maps, datetime.* and
// pendulum's DateTime, Date and Time become DateTime with the offset of
// their zone (fixed, pytz, zoneinfo or pendulum; a named zone is looked up
// in the system's tz database, ErrUnsupported when it is not there or the
// name is not in the database's form, such as "Europe//Berlin": a program
// that runs without a tz database can import time/tzdata, as wsess does), timedelta and
// pendulum's Duration become Duration, unknown classes become Object).
// Persistent ids, the extension registry and out-of-band buffers are
// refused with ErrUnsupported.
//
// Decoding is bounded by Limits: input size, mark and container nesting,
// container length, memo size, integer size, and an element budget that
// grows with the input (4 elements per input byte plus 65536, at most
// 2^17 by default) against which every value created, every item a copy or
// a construction adds, every zone loaded from the tz database and every
// node of the result (as the result would expand when a value is shared
// through the memo; a string, bytes or class name one more per 16 bytes,
// an integer beyond 64 bits one more per byte) is charged before the work
// is done. Decoding n bytes therefore
// allocates at most about 512*n bytes + 32 MiB (TestHostileBounded,
// FuzzDecodeBounded), and takes time linear in the input plus a fixed
// part: measured on a 2-core machine, at most about 16 ns per input byte
// (parsing; decimal integer lines are the dearest) plus 140 ns per
// element spent (key tuples of floats or datetimes are the dearest), that
// is at most 16*n ns + 18 ms, about 35 ms of CPU for 1 MB. The worst
// input under 1 MB we know of takes about 17 ms (up to 40 ms while other
// work loads the machine). BenchmarkHostile reports it for the worst
// input of each kind of work;
// no test times anything. Length fields are checked
// against the remaining input before anything is allocated, and a
// container that contains itself is ErrCycle.
//
// Encoder writes an sdict pickle (protocol 4 by default, or 2) that
// CPython's pickle.loads reads back, for a Go service that shares Redis
// sessions with an Emmett app.
package pickle
