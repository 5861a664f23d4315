package artifact

import (
	_ "github.com/CycloneDX/cyclonedx-go"
	_ "github.com/distribution/distribution/v3/configuration"
	_ "github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/google/go-containerregistry/pkg/authn"
	_ "github.com/google/go-containerregistry/pkg/v1/mutate"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/in-toto/attestation/go/predicates/provenance/v1"
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/secure-systems-lab/go-securesystemslib/encrypted"
	_ "github.com/sigstore/sigstore-go/pkg/bundle"
	_ "github.com/sigstore/sigstore-go/pkg/sign"
	_ "github.com/sigstore/sigstore-go/pkg/verify"
	_ "github.com/sigstore/sigstore/pkg/cryptoutils"
	_ "github.com/sigstore/sigstore/pkg/signature"
	_ "github.com/spdx/tools-golang/json"
	_ "github.com/spdx/tools-golang/spdx/v2/v2_3"
)
