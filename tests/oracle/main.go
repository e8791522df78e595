// yamlcheck — the "Kubernetes meaning" oracle for migration-hook's tests.
//
// It reads a multi-document YAML stream on stdin and prints what kubectl / Helm 3 would send
// to the API server: the stream is cut into chunks exactly like
// k8s.io/apimachinery/pkg/util/yaml.YAMLReader (re-implemented below, line for line), and
// each chunk is converted with sigs.k8s.io/yaml.YAMLToJSON (go-yaml v2 resolver, so
// `0644` -> 420, `yes` -> true, `"yes"` stays a string, duplicate keys: last one wins).
//
// Output: one line per chunk whose value is not null, in input order: compact JSON, object
// keys sorted, no HTML escaping, numbers spelled as YAMLToJSON spelled them (no float64
// round trip). Null chunks (empty, whitespace-only, comment-only, a bare `---`) print nothing.
//
//	-index  prefix each line with the chunk's 0-based index and a tab ("2\t{...}").
//	        The index counts every chunk YAMLReader returns, null ones included, so a gap
//	        in the numbers is a null chunk. YAMLReader never returns an empty chunk and
//	        swallows the `---` line that ends a chunk: `a: 1⏎---⏎---⏎b: 2` gives
//	        chunks "a: 1" (0) and "---⏎b: 2" (1); `a: 1⏎---⏎` gives one chunk only.
//
//	-streams
//	        stdin holds several streams separated by NUL bytes (YAML text never contains
//	        one); each is read on its own, as if it were the whole input. One output line
//	        per stream, in order: "<n>\t[doc,doc,...]" (its non-null documents, as above)
//	        or "<n>\t!<message>" when that stream would be rejected. The exit code is 0.
//	        Tests use it to read many documents in one process.
//
// Errors (a `---` line followed by anything but blanks or a `#` comment, invalid YAML, a
// value JSON cannot hold such as .inf or a null key) exit 1 with the message on stderr and
// print nothing on stdout: kubectl and Helm reject the whole stream in those cases.
//
// Build (offline, Debian packages only; scripts/install-oracle.sh does all of this):
//
//	apt-get install golang-go golang-k8s-sigs-yaml-dev golang-gopkg-yaml.v2-dev
//	GO111MODULE=off GOPATH=$TMP/gopath:/usr/share/gocode go build -o .tools/oracle/yamlcheck tests/oracle/main.go
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// readLine is apimachinery's LineReader.Read: one line, "\n" or "\r\n" stripped, "\n" appended.
// At end of input it returns "\n" with io.EOF (bufio's ReadLine never returns data and an error).
func readLine(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, isPrefix, err := r.ReadLine()
		buf.Write(line)
		if !isPrefix || err != nil {
			buf.WriteByte('\n')
			return buf.Bytes(), err
		}
	}
}

// readChunk is apimachinery's YAMLReader.Read (same control flow as v0.2x-v0.3x).
func readChunk(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := readLine(r)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if bytes.HasPrefix(line, []byte("---")) { // a BOM before `---` makes this false
			trimmed := strings.TrimSpace(string(line[3:]))
			if len(trimmed) > 0 && trimmed[0] != '#' {
				return nil, fmt.Errorf("invalid Yaml document separator: %s", trimmed)
			}
			if buf.Len() != 0 {
				return buf.Bytes(), nil // the separator line itself is dropped
			}
			if err == io.EOF {
				return nil, err
			}
			// A separator that starts a chunk falls through and is kept in it.
		}
		if err == io.EOF {
			if buf.Len() != 0 {
				return buf.Bytes(), nil
			}
			return nil, err
		}
		buf.Write(line)
	}
}

// canonical turns YAMLToJSON's output into the oracle's line format; "" for null.
func canonical(j []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber() // keep 12345678901234567890 and 1e+21 exactly as YAMLToJSON wrote them
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if v == nil {
		return "", nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // map keys come out sorted
		return "", err
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// docs reads one stream: the canonical line of every non-null chunk, with its chunk index.
func docs(r io.Reader) ([]int, []string, error) {
	br := bufio.NewReader(r)
	var indices []int
	var lines []string
	for i := 0; ; i++ {
		chunk, err := readChunk(br)
		if err == io.EOF {
			return indices, lines, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("chunk %d: %v", i, err)
		}
		j, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, nil, fmt.Errorf("chunk %d: error converting YAML to JSON: %v", i, err)
		}
		line, err := canonical(j)
		if err != nil {
			return nil, nil, fmt.Errorf("chunk %d: %v", i, err)
		}
		if line != "" {
			indices = append(indices, i)
			lines = append(lines, line)
		}
	}
}

func main() {
	index := flag.Bool("index", false, "prefix each line with the 0-based chunk index and a tab")
	streams := flag.Bool("streams", false, "read NUL-separated streams, one output line each")
	flag.Parse()
	fail := func(format string, a ...interface{}) {
		fmt.Fprintf(os.Stderr, "yamlcheck: "+format+"\n", a...)
		os.Exit(1)
	}

	var out bytes.Buffer // printed only if the whole input is accepted
	if *streams {
		all, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail("%v", err)
		}
		for n, part := range bytes.Split(all, []byte{0}) {
			_, lines, err := docs(bytes.NewReader(part))
			if err != nil {
				// One line per stream: newlines in the message would break that.
				msg := strings.ReplaceAll(err.Error(), "\n", " ")
				fmt.Fprintf(&out, "%d\t!%s\n", n, msg)
				continue
			}
			fmt.Fprintf(&out, "%d\t[%s]\n", n, strings.Join(lines, ","))
		}
	} else {
		indices, lines, err := docs(os.Stdin)
		if err != nil {
			fail("%v", err)
		}
		for k, line := range lines {
			if *index {
				fmt.Fprintf(&out, "%d\t", indices[k])
			}
			out.WriteString(line)
			out.WriteByte('\n')
		}
	}
	if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		fail("%v", err)
	}
}
