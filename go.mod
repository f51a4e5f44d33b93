module github.com/imapbridge/imapbridge

go 1.26
