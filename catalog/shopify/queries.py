"""The GraphQL documents Lightbox sends to Shopify's Admin API, and nothing else.

Kept in one place so the tests' fake Admin API can check every one of them against its
schema (tests/fakes/shopify.py), and so a version upgrade has one file to read. Only
current, non-deprecated fields: media go on with productUpdate(media:), not the deprecated
productCreateMedia; old media go with fileDelete, not the deprecated productDeleteMedia;
products are found with productByIdentifier, not the deprecated productByHandle.
"""

from __future__ import annotations

SHOP = """
query LightboxShop {
  shop { name myshopifyDomain }
}
"""

# The product a handle names, with the ids of the media it has now: what productUpdate
# adds is told apart from what was there by these ids. 250 is both the page cap and
# Shopify's media-per-product limit.
PRODUCT_BY_HANDLE = """
query LightboxProductByHandle($identifier: ProductIdentifierInput!) {
  productByIdentifier(identifier: $identifier) {
    id
    handle
    title
    media(first: 250, sortKey: POSITION) { nodes { id } }
  }
}
"""

STAGE_UPLOADS = """
mutation LightboxStageUploads($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets { url resourceUrl parameters { name value } }
    userErrors { field message }
  }
}
"""

# New media are appended after the product's existing ones, in the order given; the last
# $count by position are the ones this call made.
ATTACH_MEDIA = """
mutation LightboxAttachMedia($product: ProductUpdateInput!, $media: [CreateMediaInput!], $count: Int!) {
  productUpdate(product: $product, media: $media) {
    product {
      id
      media(last: $count, sortKey: POSITION) { nodes { id alt status mediaContentType } }
    }
    userErrors { field message }
  }
}
"""

MEDIA_STATUS = """
query LightboxMediaStatus($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on MediaImage {
      id
      alt
      status
      mediaErrors { code details message }
    }
  }
}
"""

DELETE_FILES = """
mutation LightboxDeleteFiles($fileIds: [ID!]!) {
  fileDelete(fileIds: $fileIds) {
    deletedFileIds
    userErrors { field message code }
  }
}
"""
