// Command baseline is melody's README chat example, the server most Go chat
// rooms start from, kept here (under testdata, outside the build) so the
// benchmark script can measure ours against it in the same run.
//
//	go build -o /tmp/baseline ./testdata/baseline && PORT=9000 /tmp/baseline
package main

import (
	"net/http"
	"os"

	"github.com/olahol/melody"
)

func main() {
	m := melody.New()

	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		m.HandleRequest(w, r)
	})

	m.HandleMessage(func(s *melody.Session, msg []byte) {
		m.Broadcast(msg)
	})

	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	http.ListenAndServe("127.0.0.1:"+port, nil)
}
