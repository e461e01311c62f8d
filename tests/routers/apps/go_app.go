// Go net/http echo application of the router differential: the policy's
// routes as ServeMux patterns (host patterns for the host-scoped route), a
// catch-all. Go 1.19's ServeMux has no method patterns, so the
// method-scoped route checks r.Method in its handler. Answers {route, host,
// method, path} in the body and the x-echo header; hh is r.Host (Go removes
// the Host header and keeps r.Host: the absolute-form target's host, if any).
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

const admin = "admin.contoso.example"

func echo(route string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]string{"route": route, "host": r.Host, "hh": r.Host, "method": r.Method, "path": r.URL.Path, "target": r.RequestURI})
		s := strings.NewReplacer("<", "\\u003c", ">", "\\u003e").Replace(string(b))
		// json.Marshal keeps non-ASCII as UTF-8: escape it so it fits a header.
		var sb strings.Builder
		for _, c := range s {
			if c >= 0x7f {
				if c > 0xffff {
					c = 0xfffd
				}
				sb.WriteString(fmt.Sprintf("\\u%04x", c))
			} else {
				sb.WriteRune(c)
			}
		}
		w.Header().Set("x-echo", sb.String())
		w.Header().Set("content-type", "application/json")
		w.Write([]byte(sb.String()))
	}
}

func tree(mux *http.ServeMux, p string, h http.HandlerFunc) {
	mux.HandleFunc(p, h)     // the path itself
	mux.HandleFunc(p+"/", h) // everything under it
}

func main() {
	mux := http.NewServeMux()
	for _, host := range []string{"", admin} {
		tree(mux, host+"/commerce", echo("customers"))
		mux.HandleFunc(host+"/dashboard/support/csp/customers/", func(w http.ResponseWriter, r *http.Request) {
			rest := strings.TrimPrefix(r.URL.Path, "/dashboard/support/csp/customers/")
			if rest != "" && !strings.Contains(rest, "/") {
				echo("csp_customers")(w, r)
			} else {
				echo("default")(w, r)
			}
		})
		tree(mux, host+"/dashboard/billing", echo("billing"))
		reports := func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "GET" || r.Method == "HEAD" || r.Method == "DELETE" {
				echo("reports")(w, r)
			} else {
				echo("default")(w, r)
			}
		}
		tree(mux, host+"/reports", reports)
		tree(mux, host+"/v1", echo("api"))
		mux.HandleFunc(host+"/healthz", echo("health"))
		mux.HandleFunc(host+"/", echo("default"))
	}
	tree(mux, admin+"/settings", echo("admin_settings"))
	http.ListenAndServe("127.0.0.1:"+os.Args[1], mux)
}
