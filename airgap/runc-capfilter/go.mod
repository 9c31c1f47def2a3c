module fullstack.invalid/runc-capfilter

go 1.22
