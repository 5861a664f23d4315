module bad

require (
	foo v1
