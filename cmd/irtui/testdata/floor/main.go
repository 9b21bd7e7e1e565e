// Command floor is the floor of irtui's process benchmarks: a Go binary
// with the same SQLite linked in, which opens the database, reads one row
// and exits (or, with --version, prints a version and exits).
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("floor version dev")
		return
	}
	db, err := sql.Open("sqlite3", "file:"+os.Getenv("IRTUI_DB")+"?mode=ro")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	var id string
	if err := db.QueryRow("SELECT id FROM incidents ORDER BY num DESC LIMIT 1").Scan(&id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(id)
}
