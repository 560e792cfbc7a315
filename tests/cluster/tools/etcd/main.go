// Command etcd is the upstream etcd server, built from go.etcd.io/etcd/server/v3
// (which cannot be "go install"ed because its go.mod has replace directives).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
