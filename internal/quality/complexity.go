package quality

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
)

// FunctionComplexity is the cyclomatic complexity of one Go function.
type FunctionComplexity struct {
	Name       string // "Parse", "(*Decoder).Token", "(T).String"
	Path       string // repository path of the file
	Line       int    // the func keyword
	EndLine    int    // the closing brace
	Complexity int
}

// GoComplexity returns the cyclomatic complexity of every function and
// method declared in a Go source file, counted as gocyclo does: 1, plus
// one for each if, for, range, non-default case of a switch or select,
// && and ||. Function literals count towards the function that contains
// them. file names the file in results and errors.
func GoComplexity(file string, src []byte) ([]FunctionComplexity, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	var out []FunctionComplexity
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		out = append(out, FunctionComplexity{
			Name:       funcName(fd),
			Path:       file,
			Line:       fset.Position(fd.Pos()).Line,
			EndLine:    fset.Position(fd.End()).Line,
			Complexity: cyclomatic(fd.Body),
		})
	}
	return out, nil
}

// cyclomatic counts the decision points under n, plus one.
func cyclomatic(n ast.Node) int {
	c := 1
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil { // default: is not a decision
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// funcName names a function as a reader finds it: "F", "(T).M", "(*T).M".
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	return "(" + recvType(fd.Recv.List[0].Type) + ")." + fd.Name.Name
}

func recvType(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return "*" + recvType(t.X)
	case *ast.IndexExpr: // generic receiver T[K]
		return recvType(t.X)
	case *ast.IndexListExpr:
		return recvType(t.X)
	case *ast.ParenExpr:
		return recvType(t.X)
	case *ast.Ident:
		return t.Name
	}
	return "?"
}
